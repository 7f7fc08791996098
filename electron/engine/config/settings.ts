/**
 * The settings screen's side of the configuration: what is in force, what is saved, which keys a
 * higher layer (environment, flags) pins, and saving a change once the whole configuration still
 * validates with it — and, for a database URL, once the server answered.
 */
import type { DatabaseCheck, Settings, SettingsUpdate, SettingsValues } from '../../../shared/contract.js';
import { checkDatabaseServer } from '../db/client.js';
import { environmentKeys, environmentLayer, loadConfig, type Config, type LoadConfigOptions } from './config.js';
import { readSettingsFile, saveSettingsFile, settingsFilePath } from './settings-file.js';

/** Keys the screen edits, as config keys. */
const settingKeys = ['model.name', 'model.threads', 'model.contextSize', 'model.maxTokens', 'database.url', 'ui.language', 'ui.theme', 'ui.shortcut'] as const;
/** Those the running engine must reopen to use. */
const engineKeys = new Set(['model.name', 'model.threads', 'model.contextSize', 'model.maxTokens', 'database.url']);

export class SettingsService {
  constructor(
    /** What the engine runs with. */
    private readonly running: Config,
    /** How it was loaded (environment, file, flags), to load it again with new settings. */
    private readonly sources: LoadConfigOptions,
  ) {}

  get(): Settings {
    const saved = readSettingsFile(this.running.home)?.values ?? {};
    const next = loadConfig(this.sources);
    return {
      values: valuesOf(next),
      saved,
      file: settingsFilePath(this.running.home),
      overridden: this.overridden(),
      restartPending: [...engineKeys].some((key) => JSON.stringify(valueAt(this.running, key)) !== JSON.stringify(valueAt(next, key))),
    };
  }

  async update(change: SettingsUpdate): Promise<Settings> {
    const current = readSettingsFile(this.running.home)?.values ?? {};
    const merged: SettingsUpdate = {
      ...current,
      ...(change.model ? { model: { ...current.model, ...change.model } } : {}),
      ...(change.database ? { database: { ...current.database, ...change.database } } : {}),
      ...(change.ui ? { ui: { ...current.ui, ...change.ui } } : {}),
    };
    // The configuration's own schema judges the result (an unknown model id, a context too small).
    loadConfig({ ...this.sources, settingsValues: merged });
    const url = change.database?.url;
    if (url) await checkDatabaseServer(url);
    await saveSettingsFile(this.running.home, change);
    return this.get();
  }

  testDatabase(url: string | null): Promise<DatabaseCheck> {
    if (url === null) return Promise.resolve({ kind: 'pglite', location: this.running.database.dir ?? '', serverVersion: null, pgvector: true });
    return checkDatabaseServer(url);
  }

  private overridden(): { key: string; by: string }[] {
    const env = this.sources.env ?? process.env;
    const fromEnv = environmentLayer(env);
    const result: { key: string; by: string }[] = [];
    for (const key of settingKeys) {
      const variable = Object.entries(environmentKeys).find(([name, entry]) => entry.key === key && env[name] !== undefined && env[name] !== '')?.[0];
      if (variable && valueAt(fromEnv, key) !== undefined) result.push({ key, by: variable });
      else if (valueAt(this.sources.overrides ?? {}, key) !== undefined) result.push({ key, by: 'command line' });
    }
    // A model file named directly (NPLLM_MODEL, --model PATH) answers instead of the catalogue choice.
    if (this.running.model.path) result.push({ key: 'model.name', by: env['NPLLM_MODEL'] ? 'NPLLM_MODEL' : 'model.path' });
    return result;
  }
}

function valueAt(source: unknown, key: string): unknown {
  let node = source;
  for (const part of key.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

function valuesOf(config: Config): SettingsValues {
  return {
    model: { name: config.model.name, threads: config.model.threads, contextSize: config.model.contextSize, maxTokens: config.model.maxTokens },
    database: { url: config.database.url },
    ui: config.ui,
  };
}
