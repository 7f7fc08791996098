/** The root options every command may see, and how they become a configuration. */
import { InvalidArgumentError } from 'commander';
import { loadConfig, type Config, type ConfigOverrides, type LoadConfigOptions } from '../config/config.js';

export interface CliOptions {
  query?: string;
  json?: boolean;
  config?: string;
  model?: string;
  threads?: number;
  maxTokens?: number;
  contextSize?: number;
  project?: string;
  replyTo?: string;
  conversation?: string;
  adapterChannel?: 'stable' | 'experimental';
  cache: boolean;
  host?: string;
  port?: number;
  maxSteps?: number;
  trainerThreads?: number;
}

/** A whole number in [min, max]: the same bounds the contract holds the API to, checked before anything opens. */
export function integer(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string) => {
    const parsed = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(parsed)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}".`);
    if (parsed < min || parsed > max)
      throw new InvalidArgumentError(`${name} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, got ${parsed}.`);
    return parsed;
  };
}

export function parseNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`--value must be a number, got "${value}".`);
  return parsed;
}

export function configFrom(options: CliOptions): Config {
  return loadConfig(configSourcesFrom(options));
}

/** Where a command's configuration comes from: the file, the environment, the flags. */
export function configSourcesFrom(options: CliOptions): LoadConfigOptions {
  const overrides: ConfigOverrides = {
    model: {
      ...(options.model ? { path: options.model } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    },
    server: { ...(options.host ? { host: options.host } : {}), ...(options.port !== undefined ? { port: options.port } : {}) },
    learning: {
      ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
      ...(options.trainerThreads !== undefined ? { threads: options.trainerThreads } : {}),
    },
  };
  return { file: options.config, overrides, env: process.env };
}
