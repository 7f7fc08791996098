/**
 * One consolidation per adapter at a time, across processes (the app's background learner and a
 * `npllm learn` in a terminal share the data folder). A lock file holds the owner's pid; a file whose
 * process is gone is a crashed run's and is taken over, so a kill never blocks learning for good.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RequestError } from '../../../shared/errors.js';

export interface HeldLock {
  /** True when the previous holder died without releasing it: its run needs cleaning up. */
  tookOverFrom: number | null;
  release(): Promise<void>;
}

export async function acquireLearningLock(path: string, what: string): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { tookOverFrom, release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      // Our own pid: another consolidation of this adapter in this very process (locks are released in `finally`, never left behind by a live process).
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || isAlive(owner))) {
        throw new RequestError('CONFLICT', `${what} is already being learned by process ${owner}.`, {
          fix: 'Wait for that run to finish (npllm stats --learning shows it), or stop that process.',
        });
      }
      tookOverFrom = Number.isInteger(owner) ? owner : 0;
      await rm(path, { force: true });
    }
  }
  throw new RequestError('CONFLICT', `${what} is being learned by another process that just started.`, { fix: 'Try again when it has finished.' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
