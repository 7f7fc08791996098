/**
 * One consolidation per adapter at a time, across processes (the app's background learner and a
 * `npllm learn` in a terminal share the data folder); a crashed run's lock is taken over.
 */
import { acquireProcessLock, type HeldLock } from '../base/process-lock.js';

export type { HeldLock };

export function acquireLearningLock(path: string, what: string): Promise<HeldLock> {
  return acquireProcessLock(path, {
    busy: (owner) =>
      owner === null ? `${what} is being learned by another process that just started.` : `${what} is already being learned by process ${owner}.`,
    fix: 'Wait for that run to finish (npllm stats --learning shows it), or stop that process.',
  });
}
