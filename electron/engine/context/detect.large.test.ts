import { accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaults, detectContext } from './detect.js';

/** 100 folders of 1,000 empty files, five times the default entry budget; the project's manifests sit at the top. */
const folders = 100;
const filesPerFolder = 1000;

let root: string;

beforeAll(() => {
  // tmpfs creates 100,000 inodes in about a second; a busy disk can take twenty.
  root = mkdtempSync(join(writable('/dev/shm') ? '/dev/shm' : tmpdir(), 'npllm-context-large-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'big', dependencies: { next: '^14.2.3', react: '^18.3.1' } }));
  writeFileSync(join(root, 'next.config.js'), '');
  for (let folder = 0; folder < folders; folder++) {
    const dir = join(root, `pkg${String(folder).padStart(3, '0')}`);
    mkdirSync(dir);
    for (let file = 0; file < filesPerFolder; file++) closeSync(openSync(join(dir, `f${file}.ts`), 'w'));
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

it('scans a 100,000-file tree within its entry budget and still finds the stack at the top', async () => {
  const proposal = await detectContext(root);
  expect(proposal.truncated).toBe(true);
  expect(proposal.scannedFiles).toBeLessThanOrEqual(defaults().maxEntries);
  expect(proposal.scannedFiles).toBeGreaterThan(defaults().maxEntries / 2);
  expect(proposal.stacks.map((stack) => stack.name)).toEqual(['nextjs', 'react', 'node']);
  expect(proposal.stacks[0]).toMatchObject({ version: '14.2', evidence: expect.arrayContaining(['next.config.js']) });
  expect(Object.keys(proposal.extensions)[0]).toBe('.ts');
});
