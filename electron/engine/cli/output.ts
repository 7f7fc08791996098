/** How the CLI talks: results on stdout, progress and errors on stderr, tables aligned. */
import type { Progress } from '../../../shared/contract.js';
import type { NpllmError } from '../../../shared/errors.js';

export function reportError(error: NpllmError, json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
  process.stderr.write(`npllm: ${error.describe()}\n`);
  if (process.env['NPLLM_LOG_LEVEL'] === 'debug' && error.cause instanceof Error) process.stderr.write(`${error.cause.stack ?? error.cause.message}\n`);
  return error.exitCode;
}

/** Progress on stderr: a rewritten line on a terminal, sparse lines in logs. */
export function progressPrinter(): (progress: Progress) => void {
  const tty = process.stderr.isTTY;
  let lastKey = '';
  return (progress) => {
    const percent = progress.fraction === null ? '' : ` ${Math.round(progress.fraction * 100)}%`;
    const line = `[npllm] ${progress.label}${percent}`;
    if (tty) {
      process.stderr.write(`\r\x1b[2K${line}${progress.done ? '\n' : ''}`);
      return;
    }
    const key = `${progress.task}:${progress.done ? 'done' : progress.fraction === null ? '' : Math.floor(progress.fraction * 4)}`;
    if (key === lastKey) return;
    lastKey = key;
    process.stderr.write(`${line}\n`);
  };
}

/** Numbers right-aligned, so their decimals line up; text left-aligned. */
export function table(rows: readonly string[][], numeric: (column: number) => boolean): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0)));
  return rows
    .map((cells) =>
      cells
        .map((cell, column) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The last line of stdout is what `--json` promises: one object (or array). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
