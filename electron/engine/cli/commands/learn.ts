/** `npllm learn --project P`: consolidate a project into its stack's adapter. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { integer, type CliOptions } from '../options.js';
import { printJson } from '../output.js';
import { withSession } from '../session.js';

type LearnOptions = CliOptions & { project: string; adapter?: string };

export function register(program: Command): void {
  program
    .command('learn')
    .description("consolidate a project: train the next version of its stack's adapter, judge it on this and earlier projects, promote it if it earned it")
    .requiredOption('-p, --project <path>', 'the project to learn (its confirmed first stack names the adapter)')
    .option('-a, --adapter <name>', 'train this adapter instead (user: one adapter for everything you do)')
    .option('--max-steps <n>', 'at most this many training steps (learning.maxSteps)', integer('--max-steps', 1))
    .option('--trainer-threads <n>', 'trainer threads (learning.threads; default: 1 on a busy machine)', integer('--trainer-threads', 1))
    .option('--json', 'print one JSON object with the result as the last line')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: LearnOptions) => {
      process.exitCode = await runLearn({ ...program.opts<CliOptions>(), ...options });
    });
}

function runLearn(options: LearnOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const result = await session.call('learning/consolidate', { project: resolve(options.project), ...(options.adapter ? { adapter: options.adapter } : {}) });
    if (options.json) {
      // The documented fields first, for readers of the line.
      const { adapter, version, channel, nllBefore, nllAfter, promoted, reason, ...rest } = result;
      return printJson({ adapter, version, channel, nllBefore, nllAfter, promoted, reason, ...rest });
    }
    const rows = Object.keys(result.nllBefore).map(
      (project) => `  ${project}: ${result.nllBefore[project]!.toFixed(3)} → ${result.nllAfter[project]?.toFixed(3) ?? '–'}`,
    );
    process.stdout.write(
      `${result.adapter} v${result.version} (${result.channel}, from ${result.parentVersion ? `v${result.parentVersion}` : 'the base model'}): ${result.reason}\n` +
        `held-out NLL before → after:\n${rows.join('\n')}\n` +
        `${result.stats.steps} steps, ${result.stats.trainTokens} tokens at ${result.stats.tokensPerSecond.toFixed(1)} tokens/s, ${result.stats.replayTexts} replayed texts, MAS λ ${result.stats.masLambda}, ${(result.stats.durationMs / 1000).toFixed(0)} s\n`,
    );
  });
}
