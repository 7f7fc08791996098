// The machine-wide cache of fetched test fixtures (models, corpora, the native PostgreSQL, the
// trainer build), outside the clone so a fresh clone's CI finds them again instead of downloading
// 1.6 GB of models each run. electron/engine/test-support.ts applies the same rule.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const sharedCacheDir = process.env.NPLLM_SHARED_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'npllm');
