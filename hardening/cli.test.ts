/**
 * Hostile and clumsy input over the command line, as real `npllm` processes (built by
 * `npm run build:engine`): every case exits with the documented code (2 bad input, 3 model,
 * 4 database or data folder) and, with --json, names the error code on stdout. None hangs.
 */
import { hostname } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNpllm, type CliRun } from '../electron/engine/test/cli.js';
import { tempHome, testEnv, type TempHome } from '../electron/engine/test/support.js';

let home: TempHome;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = tempHome('npllm-hardening-cli-');
  env = testEnv(home.home);
  mkdirSync(join(home.home, 'project'));
  writeFileSync(join(home.home, 'project', 'main.py'), 'print("hi")\n');
  writeFileSync(join(home.home, 'a-file'), 'not a folder\n');
  writeFileSync(join(home.home, 'broken.yaml'), 'model:\n  threads: [1,\n');
  // Opens (and migrates) the data folder once, so the cases below measure only themselves.
  const warm = await runNpllm(['stats', '--json'], env);
  expect(warm.code, warm.stderr).toBe(0);
});

afterAll(() => home.cleanup());

/** The error code a --json run printed, or null. */
function errorCode(run: CliRun): string | null {
  const last = run.stdout.trim().split('\n').at(-1);
  try {
    return (JSON.parse(last ?? '') as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

const longQuestion = Array.from({ length: 1500 }, (_, index) => `word${index}`).join(' ');

type Case = [
  name: string,
  args: () => string[],
  exitCode: number,
  code: string | null,
  stdin?: (() => Buffer | string) | undefined,
  extraEnv?: () => Record<string, string>,
];

const cases: Case[] = [
  // Text no model or database should see.
  ['a NUL in a question from stdin', () => ['--query', '-', '--json'], 2, 'QUERY_INVALID', () => 'How do I\u0000 drop a table?'],
  ['bytes that are not UTF-8 on stdin', () => ['--query', '-', '--json'], 2, 'QUERY_INVALID', () => Buffer.from([0x63, 0x61, 0x66, 0xc3, 0x28, 0x3f])],
  ['an encoded surrogate (CESU-8) on stdin', () => ['--query', '-', '--json'], 2, 'QUERY_INVALID', () => Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x62])],
  ['a blank question', () => ['--query', '  \t ', '--json'], 2, 'QUERY_EMPTY'],
  ['a question over query.maxChars', () => ['--query', 'x'.repeat(40_000), '--json'], 2, 'QUERY_TOO_LONG'],
  ['a question longer than the context window', () => ['--query', longQuestion, '--context-size', '256', '--json'], 2, 'QUERY_TOO_LONG'],
  ['a conversation id with spaces', () => ['--query', 'hi', '--conversation', 'my chat', '--json'], 2, 'REQUEST_INVALID'],
  ['a reply to no interaction', () => ['--query', 'thanks', '--reply-to', 'no-such-interaction', '--json', '--max-tokens', '4'], 2, 'NOT_FOUND'],
  // Arguments: exit 2 like all bad input, before anything opens.
  ['an unknown option', () => ['--bogus'], 2, null],
  ['stats over 0 days', () => ['stats', '--days', '0'], 2, null],
  ['a negative answer length', () => ['--query', 'hi', '--max-tokens', '-1'], 2, null],
  ['threads that are not a number', () => ['--query', 'hi', '--threads', 'two'], 2, null],
  ['a context window smaller than any prompt', () => ['--query', 'hi', '--context-size', '16'], 2, null],
  ['a port out of range', () => ['serve', '--port', '70000'], 2, null],
  ['a feedback value that is not a number', () => ['feedback', 'x', 'dwell', '--value', 'abc'], 2, null],
  ['a missing argument', () => ['feedback'], 2, null],
  ['an unknown command', () => ['teleport'], 2, null],
  // Mistakes the engine names.
  ['an unknown feedback event', () => ['feedback', 'x', 'teleported', '--json'], 2, 'REQUEST_INVALID'],
  ['feedback for no interaction', () => ['feedback', 'no-such-interaction', 'copied', '--json'], 2, 'NOT_FOUND'],
  ['indexing a folder that does not exist', () => ['index', join(home.home, 'nowhere'), '--json'], 2, 'NOT_FOUND'],
  ['indexing a file', () => ['index', join(home.home, 'a-file'), '--json'], 2, 'REQUEST_INVALID'],
  ['exporting a project that does not exist', () => ['data', 'export', '--project', join(home.home, 'nowhere'), '--json'], 2, 'NOT_FOUND'],
  ['a config file that does not exist', () => ['stats', '-c', join(home.home, 'missing.yaml'), '--json'], 2, 'CONFIG_NOT_FOUND'],
  ['a config file that is not YAML', () => ['stats', '-c', join(home.home, 'broken.yaml'), '--json'], 2, 'CONFIG_INVALID'],
  ['a port that is not a number in the environment', () => ['stats', '--json'], 2, 'CONFIG_INVALID', undefined, () => ({ NPLLM_PORT: 'seventy' })],
  // Models that cannot be had: a clear error, no hang.
  ['a model URL nobody answers', () => ['--model', 'http://127.0.0.1:9/x.gguf', '--query', 'hi', '--json'], 3, 'MODEL_DOWNLOAD_FAILED'],
  ['a model on a closed port', () => ['--model', 'http://127.0.0.1:1/x.gguf', '--query', 'hi', '--json'], 3, 'MODEL_DOWNLOAD_FAILED'],
  ['a model file that does not exist', () => ['--model', join(home.home, 'nothing.gguf'), '--query', 'hi', '--json'], 3, 'MODEL_NOT_FOUND'],
  ['a model that is not a GGUF', () => ['--model', join(home.home, 'a-file'), '--query', 'hi', '--json'], 3, 'MODEL_INVALID'],
  // Data folders that cannot be: exit 4, at once.
  ['a data folder in /proc', () => ['stats', '--json'], 4, 'DATA_DIR_UNWRITABLE', undefined, () => ({ NPLLM_HOME: '/proc/npllm' })],
  ['a data folder under /proc/self', () => ['stats', '--json'], 4, 'DATA_DIR_UNWRITABLE', undefined, () => ({ NPLLM_HOME: '/proc/self/npllm/data' })],
  ['a data folder in /sys', () => ['stats', '--json'], 4, 'DATA_DIR_UNWRITABLE', undefined, () => ({ NPLLM_HOME: '/sys/npllm' })],
  ['a data folder under a file', () => ['stats', '--json'], 4, 'DATA_DIR_UNWRITABLE', undefined, () => ({ NPLLM_HOME: join(home.home, 'a-file', 'npllm') })],
];

describe('CLI: hostile and malformed input', () => {
  const titled = cases.map((entry) => [`${entry[0]} → exit ${entry[2]}${entry[3] ? ` ${entry[3]}` : ''}`, entry] as const);
  it.each(titled)('%s', async (_title, [, args, exitCode, code, stdin, extraEnv]) => {
    const run = await runNpllm(args(), { ...env, ...extraEnv?.() }, stdin?.() as string | undefined);
    expect(run.code, run.stderr).toBe(exitCode);
    if (code) expect(errorCode(run), run.stdout).toBe(code);
    // The error is said on stderr, with what to do about it (commander's own errors say "error:").
    expect(run.stderr).toMatch(code ? /npllm: .+\n\s+fix: / : /error: /);
    expect(run.stderr).not.toMatch(/Failed query|insert into|params:/i);
  });

  it('a data folder another live process holds → exit 4 DATABASE_LOCKED, naming the process', async () => {
    const other = tempHome('npllm-hardening-locked-');
    try {
      writeFileSync(
        join(other.home, 'db.lock'),
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command: 'npllm serve' }),
      );
      const run = await runNpllm(['stats', '--json'], testEnv(other.home));
      expect(run.code, run.stderr).toBe(4);
      expect(errorCode(run)).toBe('DATABASE_LOCKED');
      expect(run.stderr).toContain(`pid ${process.pid}`);
    } finally {
      other.cleanup();
    }
  });
});
