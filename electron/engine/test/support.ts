/**
 * Helpers for tests that run the real engine: a throw-away data folder per test and the shared
 * model cache (filled by `npm run fetch-models`) so tests never download twice.
 */
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { loadConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { findCatalogueEntry, type CatalogueEntry } from '../model/catalogue.js';
import { migrationsFolder } from '../base/paths.js';

/**
 * Outside the clone, so a fresh clone's CI finds the model files (1.6 GB) again instead of
 * downloading them every run; the same rule as scripts/shared-cache.mjs.
 */
export const sharedCacheDir = process.env['NPLLM_SHARED_CACHE'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'npllm');
export const fixtureModelsDir = join(sharedCacheDir, 'models');
/** Mechanics tests run the tiny model: fast, and what they test does not depend on answer quality. */
export const tinyModel: CatalogueEntry = findCatalogueEntry('smollm2-135m')!;
export const fixtureModelPath = join(fixtureModelsDir, tinyModel.fileName);
/** The default model, for the few tests that judge answers. */
export const defaultModelPath = join(fixtureModelsDir, findCatalogueEntry('coder-1.5b')!.fileName);

/**
 * How long a test waits for something the code under test must eventually do: a guard against a
 * hang, never a speed check (tests bound their work; a busy 2-core machine is many times slower).
 */
export const hangGuardMs = 600_000;

export interface TempHome {
  home: string;
  cleanup(): void;
}

export function tempHome(prefix = 'npllm-test-'): TempHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Config for a test: its own home, the shared model cache, short answers, no environment leaks. */
export function testConfig(home: string, overrides: ConfigOverrides = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      home,
      log: { level: 'silent' },
      ...overrides,
      model: { name: tinyModel.id, cacheDir: fixtureModelsDir, maxTokens: 48, threads: 1, contextSize: 1024, ...overrides.model },
      // Answers must not depend on a coin flip: tests that exercise exploration turn it on.
      // nor on a background refit of the modulator after each consolidation.
      modulator: { exploration: 0, learnAfterConsolidation: false, ...overrides.modulator },
    },
  });
}

/** Environment for spawning the CLI in a test. */
export function testEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: home,
    NPLLM_HOME: home,
    NPLLM_MODELS_DIR: fixtureModelsDir,
    NPLLM_MODEL_NAME: tinyModel.id,
    NPLLM_THREADS: '1',
    NPLLM_MODULATOR_EXPLORATION: '0',
    ...extra,
  };
  return env;
}

export interface NativePostgres {
  url: string;
  stop(): void;
}

/**
 * Starts the native PostgreSQL 16 + pgvector that `scripts/fetch-test-postgres.mjs` unpacked
 * from the pgserver wheel, on a free port. PostgreSQL refuses to run as root, so under root it
 * runs as `nobody`.
 */
export async function startNativePostgres(): Promise<NativePostgres> {
  const installed = join(sharedCacheDir, 'pgserver');
  if (!existsSync(join(installed, 'pgserver', 'pginstall', 'bin', 'postgres')))
    throw new Error('The native PostgreSQL fixture is missing: run "node scripts/fetch-test-postgres.mjs".');
  const dir = mkdtempSync(join(tmpdir(), 'npllm-pg-'));
  const asRoot = process.getuid?.() === 0;
  // The shared cache may sit in a home `nobody` cannot enter (/root is 0700): under root the
  // binaries run from a world-readable copy of it (34 MB, once per boot).
  const bin = join(asRoot ? readableCopy(installed) : installed, 'pgserver', 'pginstall', 'bin');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'nobody']).toString());
    const gid = Number(execFileSync('id', ['-g', 'nobody']).toString());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const [command, argv] = asRoot ? ['runuser', ['-u', 'nobody', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const port = await freePort();
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function readableCopy(installed: string): string {
  const copy = join(tmpdir(), 'npllm-pgserver');
  if (!existsSync(join(copy, '.complete'))) {
    const scratch = mkdtempSync(join(tmpdir(), 'npllm-pgserver-'));
    cpSync(installed, scratch, { recursive: true });
    chmodSync(scratch, 0o755);
    writeFileSync(join(scratch, '.complete'), '');
    try {
      renameSync(scratch, copy);
    } catch {
      // Another test file made it meanwhile (or a stale one is in the way: replaced).
      if (!existsSync(join(copy, '.complete'))) {
        rmSync(copy, { recursive: true, force: true });
        renameSync(scratch, copy);
      } else rmSync(scratch, { recursive: true, force: true });
    }
  }
  return copy;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The NpllmError a promise rejects with; fails the test if it resolves or throws something else. */
export async function rejection(promise: Promise<unknown>): Promise<NpllmError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NpllmError);
  return error as NpllmError;
}

/** How many migrations drizzle/ holds: what a fully migrated database reports as applied. */
export function migrationCount(): number {
  return (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;
}

/**
 * A tree of `folders` × `filesPerFolder` empty files (`pkg000/f0.ts` …) for tests and benchmarks
 * over huge projects, on tmpfs when there is one: creating 100,000 inodes on a busy disk took
 * 23 s here, on tmpfs about one, and the inode creation is never what is measured.
 */
export function emptyFileTree(prefix: string, options: { folders: number; filesPerFolder: number; fileName?: (file: number) => string }): string {
  const root = mkdtempSync(join(writable('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
  for (let folder = 0; folder < options.folders; folder++) {
    const dir = join(root, `pkg${String(folder).padStart(3, '0')}`);
    mkdirSync(dir);
    for (let file = 0; file < options.filesPerFolder; file++) closeSync(openSync(join(dir, options.fileName?.(file) ?? `f${file}.ts`), 'w'));
  }
  return root;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
