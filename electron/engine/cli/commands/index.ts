/** `npllm index PATH [--watch]`: index a project for retrieval (incremental), and keep it fresh. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { toNpllmError } from '../../../../shared/errors.js';
import { watchProject } from '../../rag/watch.js';
import type { CliOptions } from '../options.js';
import { printJson, reportError } from '../output.js';
import { withSession, type Session } from '../session.js';

export function register(program: Command): void {
  program
    .command('index')
    .description('index a project for retrieval (incremental: only changed files are read again)')
    .argument('<path>', 'the project folder')
    .option('--json', 'print one JSON object with the result')
    .option('-w, --watch', 'keep the index fresh as files change (Ctrl+C to stop)')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (path: string, options: CliOptions & { watch?: boolean }) => {
      process.exitCode = await runIndex(path, { ...program.opts<CliOptions>(), ...options });
    });
}

async function runIndex(path: string, options: CliOptions & { watch?: boolean }): Promise<number> {
  return withSession(options, {}, async (session) => {
    const first = await indexOnce(session, resolve(path), options.json === true);
    if (!options.watch) return;
    process.stderr.write('[npllm] watching for changes (Ctrl+C to stop)\n');
    await watchProject(
      first,
      () =>
        indexOnce(session, first, options.json === true).then(
          () => undefined,
          (error: unknown) => void reportError(toNpllmError(error), false),
        ),
      {
        debounceMs: 750,
        pollMs: 30_000,
        signal: session.signal,
        onFallback: (reason) => process.stderr.write(`[npllm] file events unavailable (${reason}); re-indexing every 30 s instead\n`),
      },
    );
  });
}

/** One pass; returns the project's canonical root, which the watcher then follows. */
async function indexOnce(session: Session, path: string, json: boolean): Promise<string> {
  const result = await session.call('rag/index', { path });
  if (json) {
    const { files, chunks, skipped, secretsSkipped, seconds } = result;
    printJson({ files, chunks, skipped, secretsSkipped, seconds, changedFiles: result.changedFiles, removedFiles: result.removedFiles, root: result.root });
    return result.root;
  }
  const left = Object.entries(result.skipped)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${count} ${reason}`);
  process.stderr.write(
    `[npllm] ${result.root}: ${result.files} files, ${result.chunks} chunks (${result.changedFiles} changed, ${result.removedFiles} removed) in ${result.seconds} s` +
      `${left.length ? `; left out: ${left.join(', ')}` : ''}${result.secretsSkipped ? ' (secrets are never read into the index)' : ''}\n`,
  );
  return result.root;
}
