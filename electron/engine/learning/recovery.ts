/**
 * Crash recovery (learning/README.md, "Killing it at any moment"): a run killed anywhere leaves a
 * `running` row and a run folder, which the next run for its adapter, or start-up, closes while
 * holding the adapter's lock, so the dead run cannot still be alive.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LearningError } from '../../../shared/errors.js';
import type { AdapterStore } from '../adapters/store.js';
import type { Db } from '../db/client.js';
import { acquireLearningLock } from './lock.js';
import { adaptersWithRunningRuns, runningTrainingRuns, updateTrainingRun } from './queries.js';

/**
 * At start-up: runs a killed process left `running` are closed as interrupted (and their scratch
 * files removed), adapter by adapter under its lock, so one a live process is training is left
 * alone. Returns how many were closed.
 */
export async function recoverInterruptedRuns(db: Db, store: AdapterStore, home: string): Promise<number> {
  let closed = 0;
  for (const adapter of await adaptersWithRunningRuns(db)) {
    const lock = await acquireLearningLock(join(home, 'learning', adapter, 'lock'), `Adapter ${adapter}`).catch(() => null);
    if (!lock) continue;
    try {
      closed += await cleanUpDeadRuns(db, store, home, adapter);
    } finally {
      await lock.release();
    }
  }
  return closed;
}

/**
 * Runs left `running` by a killed process: marked failed, their scratch folders and unregistered
 * importance files removed. A run killed after registering its version keeps it (it is whole).
 */
export async function cleanUpDeadRuns(db: Db, store: AdapterStore, home: string, adapter: string): Promise<number> {
  const dead = await runningTrainingRuns(db, adapter);
  if (dead.length === 0) return 0;
  const versions = await store.list(adapter);
  for (const run of dead) {
    const registered = versions.find((version) => version.trainingRunId === run.id);
    await updateTrainingRun(db, run.id, {
      status: 'failed',
      finishedAt: new Date(),
      version: registered?.version ?? null,
      reason: `interrupted: the process running it stopped before it finished${registered ? ` (after registering v${registered.version})` : ''}`,
      error: new LearningError('LEARNING_FAILED', 'The run was interrupted.', {
        fix: 'Nothing to do: the stable adapter was not touched; learn the project again.',
      }).toJSON(),
    });
    await rm(join(home, 'learning', 'runs', run.id), { recursive: true, force: true });
    if (!registered) await rm(join(store.folder(adapter), 'importance', `${run.id}.gguf`), { force: true });
  }
  return dead.length;
}
