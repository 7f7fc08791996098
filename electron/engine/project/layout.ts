/**
 * Where npllm keeps things in its data folder (`home`, NPLLM_HOME, `~/.npllm` by default), in one
 * place, so that no capability invents a path another one must guess.
 */
import { join } from 'node:path';

export const dataLayout = {
  /** Downloaded models (model.cacheDir overrides it). */
  models: (home: string) => join(home, 'models'),
  /** The embedded database (database.dir overrides it). */
  database: (home: string) => join(home, 'db'),
  logs: (home: string) => join(home, 'logs'),
  /** Training-data exports (`npllm data export`). */
  exports: (home: string) => join(home, 'exports'),
  /** One adapter's versions, importance files and lock. */
  adapter: (home: string, name: string) => join(home, 'adapters', name),
  /** One adapter's learning state: its lock and frozen held-out sets. */
  learning: (home: string, adapter: string) => join(home, 'learning', adapter),
  /** A consolidation's scratch folder, removed when it ends. */
  learningRun: (home: string, runId: string) => join(home, 'learning', 'runs', runId),
};
