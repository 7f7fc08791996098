/** `npllm data export --project P`: a project's training examples as JSONL. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliOptions } from '../options.js';
import { printJson } from '../output.js';
import { withSession } from '../session.js';

type ExportOptions = CliOptions & { out?: string };

export function register(program: Command): void {
  const data = program.command('data').description('the training data npllm collects');
  data
    .command('export')
    .description("write a project's training examples (accepted answers, corrections, code) as JSONL")
    .requiredOption('-p, --project <path>', 'the project')
    .option('-o, --out <file>', 'output file (default: <data folder>/exports/<project>-<time>.jsonl)')
    .option('--json', 'print one JSON object with the counts')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: ExportOptions) => {
      process.exitCode = await runExport({ ...program.opts<CliOptions>(), ...options });
    });
}

function runExport(options: ExportOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const summary = await session.call('data/export', { project: resolve(options.project!), ...(options.out ? { out: resolve(options.out) } : {}) });
    if (options.json) return printJson(summary);
    process.stdout.write(`${summary.path}\n`);
    process.stderr.write(
      `[npllm] ${summary.examples} examples (${summary.byKind.accepted} accepted, ${summary.byKind.correction} corrections, ${summary.byKind.code} code) · ${summary.duplicatesDropped} duplicates dropped · ${summary.secretsScrubbed} secrets removed\n`,
    );
  });
}
