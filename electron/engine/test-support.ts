/**
 * Helpers for tests that run the real engine: a throw-away data folder per test and the shared
 * model cache (.cache/models, filled by `npm run fetch-models`) so tests never download twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config, type ConfigOverrides } from './config/config.js';
import { defaultModel } from './model/default-model.js';
import { packageRoot } from './paths.js';

export const fixtureModelsDir = join(packageRoot, '.cache', 'models');
export const fixtureModelPath = join(fixtureModelsDir, defaultModel.fileName);

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
      model: { cacheDir: fixtureModelsDir, maxTokens: 48, threads: 1, contextSize: 1024, ...overrides.model },
    },
  });
}

/** Environment for spawning the CLI in a test. */
export function testEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, NPLLM_HOME: home, NPLLM_MODELS_DIR: fixtureModelsDir, NPLLM_THREADS: '1', ...extra };
  return env;
}
