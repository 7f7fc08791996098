/**
 * PGlite happily lets two processes open one data folder and corrupt it (fsync is off), so the
 * embedded database is guarded by an exclusive lock file next to it. A lock left by a process
 * that died is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { DatabaseError } from '../../../shared/errors.js';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  command: string;
}

export interface FileLock {
  readonly path: string;
  release(): void;
}

export function acquireFileLock(path: string, resource: string): FileLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(path);
      if (owner && isHeld(owner)) {
        throw new DatabaseError(
          'DATABASE_LOCKED',
          `${resource} is in use by another npllm process (pid ${owner.pid}, "${owner.command}", since ${owner.since}).`,
          {
            fix: `Stop that process (it may be an npllm server), point NPLLM_HOME at another folder, or use a shared server with DATABASE_URL. If no such process exists, delete ${path}.`,
            details: { lockFile: path, owner },
          },
        );
      }
      unlinkStale(path);
      continue;
    }
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ').slice(0, 200) };
    writeSync(fd, JSON.stringify(owner));
    closeSync(fd);
    return createLock(path);
  }
  throw new DatabaseError('DATABASE_LOCKED', `Could not take the lock ${path} for ${resource}: another process keeps taking it.`, {
    fix: 'Stop the other npllm processes using this data folder and try again.',
  });
}

function createLock(path: string): FileLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      const owner = readOwner(path);
      if (owner?.pid === process.pid) unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
  process.on('exit', release);
  return { path, release };
}

function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    // A lock file being written this instant, or garbage: treat it as unowned after a retry.
    return null;
  }
}

function isHeld(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
