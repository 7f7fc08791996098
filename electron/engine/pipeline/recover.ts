/**
 * Answers a dead process left `pending`. A question is recorded before it is answered and its
 * answer written as it streams (every few tokens), so when the process is killed mid-answer the
 * row holds what was streamed; the next start marks it `interrupted`, keeping that partial answer,
 * instead of leaving it pending forever.
 */
import { hostname } from 'node:os';
import { NpllmError } from '../../../shared/errors.js';
import type { Database } from '../db/client.js';
import { markInterrupted, pendingInteractions } from '../data-collection/interactions.js';

/** This process, as recorded on the interactions it answers: `host:pid:start`. */
export const thisWorker = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;

/**
 * Marks the interactions of dead processes `interrupted` and returns how many. With the embedded
 * database every pending row is an orphan (its lock lets one process in at a time); on a shared
 * server only rows of this machine's processes that no longer run can be told apart from live ones.
 */
export async function recoverInterruptedAnswers(database: Pick<Database, 'db' | 'kind'>): Promise<number> {
  const pending = await pendingInteractions(database.db);
  const orphans = pending.filter(({ worker }) => (database.kind === 'pglite' ? worker !== thisWorker : isDeadLocalWorker(worker))).map(({ id }) => id);
  const error = new NpllmError(
    'GENERATION_FAILED',
    'npllm stopped while answering (the process was killed or crashed); the answer is what had been streamed until then.',
    { fix: 'Ask again.' },
  ).toJSON();
  return markInterrupted(database.db, orphans, error);
}

function isDeadLocalWorker(worker: string | null): boolean {
  if (worker === null || worker === thisWorker) return false;
  // host:pid:start, and a host name could itself hold a colon.
  const parts = worker.split(':');
  const pid = parts.at(-2);
  if (parts.slice(0, -2).join(':') !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
