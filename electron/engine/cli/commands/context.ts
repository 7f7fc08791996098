/** `npllm context detect|confirm PATH`: a project's stacks, detected from its metadata and confirmed by the user. */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { DetectedStack } from '../../../../shared/contract.js';
import type { CliOptions } from '../options.js';
import { printJson } from '../output.js';
import { withSession } from '../session.js';

export function register(program: Command): void {
  const context = program.command('context').description("a project's stacks, detected from its metadata and confirmed by you");
  context
    .command('detect')
    .description('propose the stacks of a project folder, with evidence (reads manifests and file names only)')
    .argument('<path>', 'the project folder')
    .option('--json', 'print one JSON object')
    .action(async (path: string, options: CliOptions) => {
      process.exitCode = await runDetect(path, { ...program.opts<CliOptions>(), ...options });
    });
  context
    .command('confirm')
    .description("store the project's profile: the detected stacks, or the ones you name")
    .argument('<path>', 'the project folder')
    .option('-s, --stack <stacks...>', 'the stacks to keep, as name or name@version (default: the proposal; asked on a terminal)')
    .option('-y, --yes', 'confirm the proposal without asking')
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (path: string, options: CliOptions & { stack?: string[]; yes?: boolean }) => {
      process.exitCode = await runConfirm(path, { ...program.opts<CliOptions>(), ...options });
    });
}

function runDetect(path: string, options: CliOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const proposal = await session.call('context/detect', { path: resolve(path) });
    if (options.json) printJson(proposal);
    else process.stdout.write(`${describeStacks(proposal.root, proposal.stacks)}\n`);
  });
}

function runConfirm(path: string, options: CliOptions & { stack?: string[]; yes?: boolean }): Promise<number> {
  return withSession(options, {}, async (session) => {
    let choice = options.stack?.map(parseStackChoice);
    if (!choice && !options.yes && process.stdin.isTTY && process.stderr.isTTY) {
      const proposal = await session.call('context/detect', { path: resolve(path) });
      process.stderr.write(`${describeStacks(proposal.root, proposal.stacks)}\n`);
      const answer = await ask('Confirm these stacks? [Y]es, or type the ones to keep (name[@version] …): ');
      if (answer.trim() && !/^y(es)?$/i.test(answer.trim()))
        choice = answer
          .trim()
          .split(/[\s,]+/)
          .map(parseStackChoice);
    }
    const profile = await session.call('context/confirm', { path: resolve(path), ...(choice ? { stacks: choice } : {}) });
    if (options.json) printJson(profile);
    else
      process.stderr.write(
        `[npllm] ${profile.root}: profile version ${profile.version} stored (${profile.stacks.map((stack) => `${stack.name}${stack.version ? ` ${stack.version}` : ''}`).join(', ')})\n`,
      );
  });
}

function parseStackChoice(text: string): { name: string; version?: string } {
  const [name, version] = text.split('@', 2) as [string, string | undefined];
  return { name: name.trim().toLowerCase(), ...(version ? { version: version.trim() } : {}) };
}

async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

function describeStacks(root: string, stacks: readonly DetectedStack[]): string {
  if (stacks.length === 0) return `${root}: no known stack detected (not a project, or one npllm does not know yet)`;
  return [
    `${root}:`,
    ...stacks.map(
      (stack) =>
        `  ${stack.name}${stack.version ? ` ${stack.version}` : ''} (${Math.round(stack.confidence * 100)}%): ${stack.evidence.slice(0, 3).join('; ')}`,
    ),
  ].join('\n');
}
