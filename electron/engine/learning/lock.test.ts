/** The per-adapter learning lock: one holder across processes, a dead holder's lock taken over. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestError } from '../../../shared/errors.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { acquireLearningLock } from './lock.js';

let home: TempHome;
const children: ChildProcess[] = [];

beforeAll(() => {
  home = tempHome('npllm-lock-');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(() => home.cleanup());

let folders = 0;
const lockPath = () => join(home.home, `adapter-${folders++}`, 'lock');

/** A live process that is not this one. */
function liveProcess(): number {
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(child.pid!));
  });
}

describe('acquireLearningLock', () => {
  it('creates its folder and records this process as the holder', async () => {
    const path = lockPath();
    const lock = await acquireLearningLock(path, 'Adapter odoo');
    expect(lock.tookOverFrom).toBeNull();
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('refuses while a live other process holds it, naming the process, and leaves its lock alone', async () => {
    const path = lockPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const owner = liveProcess();
    writeFileSync(path, String(owner));
    const error = await rejection(acquireLearningLock(path, 'Adapter odoo'));
    expect(error).toBeInstanceOf(RequestError);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(`Adapter odoo is already being learned by process ${owner}.`);
    expect(error.fix).toMatch(/npllm stats --learning/);
    expect(readFileSync(path, 'utf8')).toBe(String(owner));
  });

  it('takes over the lock of a process that died, and says whose it was', async () => {
    const path = lockPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const dead = await deadPid();
    writeFileSync(path, String(dead));
    const lock = await acquireLearningLock(path, 'Adapter odoo');
    expect(lock.tookOverFrom).toBe(dead);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
    await lock.release();
  });

  it('takes over an empty or garbled lock file (a holder killed while writing it)', async () => {
    for (const content of ['', 'not a pid']) {
      const path = lockPath();
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
      const lock = await acquireLearningLock(path, 'Adapter odoo');
      expect(lock.tookOverFrom).toBe(0);
      await lock.release();
    }
  });

  it('is free again once released; a second release is harmless', async () => {
    const path = lockPath();
    const lock = await acquireLearningLock(path, 'Adapter odoo');
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await lock.release();
    const again = await acquireLearningLock(path, 'Adapter odoo');
    expect(again.tookOverFrom).toBeNull();
    await again.release();
  });

  it('refuses a second consolidation of the same adapter in this very process', async () => {
    const path = lockPath();
    const lock = await acquireLearningLock(path, 'Adapter odoo');
    await expect(acquireLearningLock(path, 'Adapter odoo')).rejects.toMatchObject({ code: 'CONFLICT' });
    await lock.release();
  });

  it('keeps adapters apart: each lock file is its own', async () => {
    const [first, second] = [lockPath(), lockPath()];
    const one = await acquireLearningLock(first, 'Adapter odoo');
    const two = await acquireLearningLock(second, 'Adapter django');
    expect(two.tookOverFrom).toBeNull();
    await Promise.all([one.release(), two.release()]);
  });
});
