/**
 * A real `npllm serve` (built with `npm run build`) on a free port, with a fresh data folder and
 * the shared model cache, for the browser tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
/** The machine-wide fixture cache (scripts/shared-cache.mjs), outside the clone. */
const modelsDir = join(process.env['NPLLM_SHARED_CACHE'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'npllm'), 'models');

export interface NpllmServer {
  url: string;
  stop(): Promise<void>;
}

export function startNpllmServer(extraEnv: Record<string, string> = {}): Promise<NpllmServer> {
  for (const built of ['dist/electron/engine/cli/main.js', 'out/renderer/index.html']) {
    if (!existsSync(join(repo, built))) throw new Error(`${built} is missing: run "npm run build" before the e2e tests.`);
  }
  const home = mkdtempSync(join(tmpdir(), 'npllm-e2e-'));
  const server = spawn(process.execPath, [join(repo, 'bin/npllm.js'), 'serve', '--port', '0'], {
    cwd: repo,
    env: {
      PATH: process.env['PATH'],
      HOME: home,
      NPLLM_HOME: home,
      NPLLM_MODELS_DIR: modelsDir,
      // The browser tests check the UI's mechanics: the tiny model answers fastest.
      NPLLM_MODEL_NAME: 'smollm2-135m',
      NPLLM_THREADS: '1',
      NPLLM_MAX_TOKENS: '48',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
        resolve({ url: listening[1], stop });
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npllm serve exited with code ${code}:\n${log}`));
    });
  });
}
