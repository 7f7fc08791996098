/**
 * A real `npllm serve` (built with `npm run build`) on a free port, with a fresh data folder and
 * the shared model cache, for the browser tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
/** The machine-wide fixture cache (scripts/shared-cache.mjs), outside the clone. */
const modelsDir = join(process.env['NPLLM_SHARED_CACHE'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'npllm'), 'models');

export interface NpllmServer {
  url: string;
  /** The server's data folder (NPLLM_HOME, also its HOME: the folder projects must be under). */
  home: string;
  stop(): Promise<void>;
  /** Ends the server (SIGKILL: a crash) and keeps its data folder, so it can be started again on it. */
  kill(): Promise<void>;
}

export interface ServerSetup {
  /** Model settings in the data folder's settings.yaml instead of environment variables, so the settings screen may change them. */
  settingsFile?: boolean;
  /** An existing data folder (a restart); a fresh one otherwise. */
  home?: string;
  /** A YAML config file's text, written into the data folder and given to `serve --config`. */
  config?: string;
}

/** What the browser tests run with: the tiny model answers fastest, one thread, short answers. */
const testModel = { name: 'smollm2-135m', threads: 1, maxTokens: 48 };

export function startNpllmServer(extraEnv: Record<string, string> = {}, setup: ServerSetup = {}): Promise<NpllmServer> {
  for (const built of ['dist/electron/engine/cli/main.js', 'out/renderer/index.html']) {
    if (!existsSync(join(repo, built))) throw new Error(`${built} is missing: run "npm run build" before the e2e tests.`);
  }
  const home = setup.home ?? extraEnv['NPLLM_HOME'] ?? mkdtempSync(join(tmpdir(), 'npllm-e2e-'));
  if (setup.settingsFile && !setup.home) {
    writeFileSync(join(home, 'settings.yaml'), `model:\n  name: ${testModel.name}\n  threads: ${testModel.threads}\n  maxTokens: ${testModel.maxTokens}\n`);
  }
  const modelEnv = setup.settingsFile
    ? {}
    : { NPLLM_MODEL_NAME: testModel.name, NPLLM_THREADS: String(testModel.threads), NPLLM_MAX_TOKENS: String(testModel.maxTokens) };
  const configFile = join(home, 'npllm.yaml');
  if (setup.config) writeFileSync(configFile, setup.config);
  const server = spawn(process.execPath, [join(repo, 'bin/npllm.js'), 'serve', '--port', '0', ...(setup.config ? ['--config', configFile] : [])], {
    cwd: repo,
    // No exploration: the modulator would otherwise flip one answer in ten (retrieval off, an adapter
    // a level away), and a test that asks about project code would see no sources by chance.
    env: { PATH: process.env['PATH'], HOME: home, NPLLM_HOME: home, NPLLM_MODELS_DIR: modelsDir, NPLLM_MODULATOR_EXPLORATION: '0', ...modelEnv, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kill = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
  };
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    let log = '';
    // A hang guard: on a busy machine opening the database can take long, but never this long.
    const timer = setTimeout(() => reject(new Error(`npllm serve did not start within 10 min:\n${log}`)), 600_000);
    server.stderr.setEncoding('utf8');
    // Keep draining stderr for the whole run so the server never blocks on a full pipe.
    server.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-20_000);
      const listening = /server listening on (http:\/\/\S+)/.exec(log);
      if (listening?.[1]) {
        clearTimeout(timer);
        resolve({ url: listening[1], home, stop, kill });
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npllm serve exited with code ${code}:\n${log}`));
    });
  });
}
