import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { acquireFileLock } from './lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'npllm-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireFileLock', () => {
  it('is exclusive and names the holder in its error', () => {
    const path = join(dir, 'db.lock');
    const lock = acquireFileLock(path, 'The database');
    let error: unknown;
    try {
      acquireFileLock(path, 'The database');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NpllmError);
    expect((error as NpllmError).code).toBe('DATABASE_LOCKED');
    expect((error as NpllmError).message).toContain(`pid ${process.pid}`);
    expect((error as NpllmError).fix).toContain('NPLLM_HOME');
    lock.release();
    expect(existsSync(path)).toBe(false);
    acquireFileLock(path, 'The database').release();
  });

  it('takes over a lock left by a process that died', () => {
    const path = join(dir, 'db.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    writeFileSync(path, JSON.stringify({ pid: dead, host: hostname(), since: '2020-01-01', command: 'npllm' }));
    const lock = acquireFileLock(path, 'The database');
    lock.release();
  });

  it('respects a lock held by a live process', () => {
    const path = join(dir, 'db.lock');
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), since: '2020-01-01', command: 'npllm serve' }));
    expect(() => acquireFileLock(path, 'The database')).toThrow(/npllm serve/);
  });
});
