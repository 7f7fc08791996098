import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { packageRoot } from '../base/paths.js';
import { defaultThreads } from '../model/config.js';
import { loadConfig } from './config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'npllm-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeYaml(text: string): string {
  const file = join(dir, 'npllm.yaml');
  writeFileSync(file, text);
  return file;
}

function configError(action: () => unknown): NpllmError {
  try {
    action();
  } catch (error) {
    if (error instanceof NpllmError) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('derives every folder from home by default', () => {
    const config = loadConfig({ env: { NPLLM_HOME: dir } });
    expect(config.home).toBe(dir);
    expect(config.model.cacheDir).toBe(join(dir, 'models'));
    expect(config.database.dir).toBe(join(dir, 'db'));
    expect(config.database.url).toBeNull();
    expect(config.server.host).toBe('127.0.0.1');
  });

  it('layers defaults < file < environment < command line', () => {
    const file = writeYaml('model:\n  maxTokens: 100\n  threads: 3\nserver:\n  port: 9000\n');
    const config = loadConfig({ file, env: { NPLLM_THREADS: '2', NPLLM_HOME: dir }, overrides: { model: { threads: 1 } } });
    expect(config.model.maxTokens).toBe(100);
    expect(config.server.port).toBe(9000);
    expect(config.model.threads).toBe(1);
    expect(loadConfig({ file, env: { NPLLM_THREADS: '2' } }).model.threads).toBe(2);
  });

  it('reads DATABASE_URL and resolves relative paths in a file against the file', () => {
    const file = writeYaml('home: ./data\nmodel:\n  path: models/my.gguf\n');
    const config = loadConfig({ file, env: { DATABASE_URL: 'postgres://u:p@db:5432/npllm' } });
    expect(config.home).toBe(join(dir, 'data'));
    expect(config.model.path).toBe(join(dir, 'models/my.gguf'));
    expect(config.database.url).toBe('postgres://u:p@db:5432/npllm');
  });

  it('answers with the default catalogue model unless another one is named', () => {
    expect(loadConfig({ env: {} }).model).toMatchObject({ name: 'coder-1.5b', path: null });
    expect(loadConfig({ env: { NPLLM_MODEL_NAME: 'coder-0.5b' } }).model).toMatchObject({ name: 'coder-0.5b', path: null });
  });

  it('reads a catalogue id given where a path is expected (--model, NPLLM_MODEL, model.path) as that model', () => {
    expect(loadConfig({ env: {}, overrides: { model: { path: 'smollm2-135m' } } }).model).toMatchObject({ name: 'smollm2-135m', path: null });
    expect(loadConfig({ env: { NPLLM_MODEL: 'coder-0.5b' } }).model).toMatchObject({ name: 'coder-0.5b', path: null });
    expect(loadConfig({ file: writeYaml('model:\n  path: coder-0.5b\n'), env: {} }).model).toMatchObject({ name: 'coder-0.5b', path: null });
  });

  it('names the catalogue when model.name is unknown', () => {
    const error = configError(() => loadConfig({ file: writeYaml('model:\n  name: gpt-5\n'), env: {} }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"model.name"');
    expect(error.message).toContain('coder-1.5b');
  });

  it('keeps hf: URIs as they are', () => {
    const file = writeYaml('model:\n  path: hf:bartowski/some-model-GGUF:Q4_K_M\n');
    expect(loadConfig({ file, env: {} }).model.path).toBe('hf:bartowski/some-model-GGUF:Q4_K_M');
  });

  it('names an unknown key and lists the valid ones', () => {
    const error = configError(() => loadConfig({ file: writeYaml('model:\n  thread: 2\n'), env: {} }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('"model.thread"');
    expect(error.fix).toContain('threads');
  });

  it('names an unknown top-level key', () => {
    const error = configError(() => loadConfig({ file: writeYaml('modle:\n  path: x\n'), env: {} }));
    expect(error.message).toContain('"modle"');
    expect(error.fix).toContain('model');
  });

  it('names an invalid value and where to set it', () => {
    const error = configError(() => loadConfig({ env: { NPLLM_THREADS: 'many' } }));
    expect(error.message).toContain('"model.threads"');
    expect(error.fix).toContain('NPLLM_THREADS');
    expect(configError(() => loadConfig({ file: writeYaml('server:\n  port: 99999\n'), env: {} })).message).toContain('"server.port"');
  });

  it('rejects a section given as a scalar', () => {
    expect(configError(() => loadConfig({ file: writeYaml('model: tiny.gguf\n'), env: {} })).message).toContain('"model"');
  });

  it('reports unreadable and malformed files', () => {
    expect(configError(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).code).toBe('CONFIG_NOT_FOUND');
    const malformed = configError(() => loadConfig({ file: writeYaml('model:\n  threads: [1\n'), env: {} }));
    expect(malformed.message).toMatch(/not valid YAML at line \d/);
    expect(configError(() => loadConfig({ file: writeYaml('- a\n- b\n'), env: {} })).message).toContain('mapping');
  });

  it('accepts an empty file', () => {
    expect(loadConfig({ file: writeYaml(''), env: {} }).model.maxTokens).toBeGreaterThan(0);
  });

  it('loads the shipped production config', () => {
    const config = loadConfig({ file: join(packageRoot, 'config', 'production.yaml'), env: {} });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.home).toBe('/var/lib/npllm');
  });
});

describe('defaultThreads', () => {
  it('leaves one core free', () => {
    expect(defaultThreads(1)).toBe(1);
    expect(defaultThreads(2)).toBe(1);
    expect(defaultThreads(8)).toBe(7);
  });
});
