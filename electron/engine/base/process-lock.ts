/**
 * One holder at a time across processes (the app's engine, a terminal's `npllm`, the server share
 * the data folder): a lock file holds the owner's pid; a file whose process is gone belongs to a
 * crashed holder and is taken over, so a kill never blocks the work for good.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RequestError } from '../../../shared/errors.js';

export interface HeldLock {
  /** The pid of a holder that died without releasing the lock (0 if unreadable): its work needs cleaning up. */
  tookOverFrom: number | null;
  release(): Promise<void>;
}

export interface LockMessages {
  /** The CONFLICT message when a live process holds the lock (null: one that took it while we retried). */
  busy: (owner: number | null) => string;
  fix: string;
}

export async function acquireProcessLock(path: string, messages: LockMessages): Promise<HeldLock> {
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
      // Our own pid: the same work in this very process (locks are released in `finally`, never left behind by a live process).
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || isAlive(owner))) {
        throw new RequestError('CONFLICT', messages.busy(owner), { fix: messages.fix });
      }
      tookOverFrom = Number.isInteger(owner) ? owner : 0;
      await rm(path, { force: true });
    }
  }
  throw new RequestError('CONFLICT', messages.busy(null), { fix: messages.fix });
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
