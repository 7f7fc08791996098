import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { SettingsService } from './settings.js';
import { settingsFilePath } from './settings-file.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'npllm-settings-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const service = (env: NodeJS.ProcessEnv = {}) => {
  const sources = { env: { NPLLM_HOME: home, ...env } };
  return new SettingsService(loadConfig(sources), sources);
};

describe('settings.yaml as a configuration layer', () => {
  it('sits above the config file and below environment variables', () => {
    const file = join(home, 'server.yaml');
    writeFileSync(file, 'model:\n  contextSize: 8192\n  maxTokens: 100\n');
    writeFileSync(settingsFilePath(home), 'model:\n  contextSize: 2048\n  maxTokens: 200\nui:\n  language: pt-BR\n');
    const config = loadConfig({ file, env: { NPLLM_HOME: home, NPLLM_MAX_TOKENS: '300' } });
    expect(config.model.contextSize).toBe(2048);
    expect(config.model.maxTokens).toBe(300);
    expect(config.ui.language).toBe('pt-BR');
  });

  it('a damaged file is named with its fix', () => {
    writeFileSync(settingsFilePath(home), 'model:\n  contextSize: tiny\n');
    expect(() => loadConfig({ env: { NPLLM_HOME: home } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('model.contextSize'),
        fix: expect.stringContaining('delete the file'),
      }),
    );
  });
});

describe('the settings service', () => {
  it('reports the values in force, the file and the keys the environment pins', () => {
    const settings = service({ NPLLM_MODEL_NAME: 'smollm2-135m' }).get();
    expect(settings.values.model.name).toBe('smollm2-135m');
    expect(settings.values.ui).toEqual({ language: 'system', theme: 'system', shortcut: 'CommandOrControl+Shift+Space' });
    expect(settings.file).toBe(settingsFilePath(home));
    expect(settings.overridden).toEqual([{ key: 'model.name', by: 'NPLLM_MODEL_NAME' }]);
    expect(settings.restartPending).toBe(false);
  });

  it('saves a change, merged with what was saved before; engine settings wait for a reload', async () => {
    const settings = service();
    await settings.update({ ui: { language: 'pt-BR' } });
    const saved = await settings.update({ model: { contextSize: 2048, threads: null } });
    expect(saved.saved).toEqual({ ui: { language: 'pt-BR' }, model: { contextSize: 2048, threads: null } });
    expect(saved.values.model.contextSize).toBe(2048);
    expect(saved.restartPending).toBe(true);
    expect(readFileSync(settingsFilePath(home), 'utf8')).toContain('contextSize: 2048');
    // A language or theme needs no reload.
    expect(service().get().restartPending).toBe(false);
  });

  it('refuses what the configuration schema refuses, naming the key, and saves nothing', async () => {
    await expect(service().update({ model: { name: 'gpt-5' } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('model.name'),
    });
    await expect(service().update({ model: { contextSize: 100 } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('model.contextSize'),
    });
    expect(existsSync(settingsFilePath(home))).toBe(false);
  });

  it('a database URL that does not answer is refused before it is saved', async () => {
    await expect(service().update({ database: { url: 'postgres://npllm:secret@127.0.0.1:1/npllm' } })).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.not.stringContaining('secret'),
      fix: expect.stringContaining('embedded database'),
    });
    await expect(service().testDatabase('mysql://localhost/npllm')).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      fix: expect.stringContaining('postgres://'),
    });
    expect(existsSync(settingsFilePath(home))).toBe(false);
    // Back to the embedded one needs no server.
    await expect(service().update({ database: { url: null } })).resolves.toMatchObject({ values: { database: { url: null } } });
  });
});
