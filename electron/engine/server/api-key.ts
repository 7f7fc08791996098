/**
 * A server reachable from other machines needs an API key; one the user never set is created on
 * first run, once per data folder (so it survives restarts and upgrades), readable by the user only.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors.js';
import { isLoopbackHost } from './guard.js';

export interface ServerKey {
  key: string | null;
  /** Where a created or reused key lives, to tell the user; null when the config set it (or none is needed). */
  file: string | null;
  created: boolean;
}

/**
 * The key the server requires: the configured one; none when only this machine can reach it
 * (loopback, answering to loopback names only); else `<home>/api-key`, created if missing. A
 * reverse proxy on loopback forwarding a public host name counts as reachable from elsewhere.
 */
export async function serverApiKey(options: { host: string; allowedHosts?: readonly string[]; apiKey: string | null; home: string }): Promise<ServerKey> {
  if (options.apiKey) return { key: options.apiKey, file: null, created: false };
  const localOnly = isLoopbackHost(options.host) && (options.allowedHosts ?? []).every(isLoopbackHost);
  if (localOnly) return { key: null, file: null, created: false };
  const file = join(options.home, 'api-key');
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw unreadable(file, error);
    },
  );
  if (existing !== null) {
    if (existing.length < 16) throw unreadable(file, new Error('it holds fewer than 16 characters'));
    return { key: existing, file, created: false };
  }
  const key = randomBytes(32).toString('base64url');
  try {
    // `wx`: two servers starting at once on one data folder agree on the first one's key.
    await writeFile(file, `${key}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return serverApiKey(options);
    throw unreadable(file, error);
  }
  return { key, file, created: true };
}

function unreadable(file: string, cause: unknown): ConfigError {
  return new ConfigError('CONFIG_INVALID', `The server's API key file ${file} cannot be used: ${(cause as Error).message}.`, {
    cause,
    fix: 'Delete it (a new key is created), or set server.apiKey (NPLLM_API_KEY) yourself.',
  });
}
