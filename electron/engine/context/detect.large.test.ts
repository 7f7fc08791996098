import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emptyFileTree } from '../test/support.js';
import { defaults, detectContext } from './detect.js';

/** 100 folders of 1,000 empty files, five times the default entry budget; the project's manifests sit at the top. */
const folders = 100;
const filesPerFolder = 1000;

let root: string;

beforeAll(() => {
  root = emptyFileTree('npllm-context-large-', { folders, filesPerFolder });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'big', dependencies: { next: '^14.2.3', react: '^18.3.1' } }));
  writeFileSync(join(root, 'next.config.js'), '');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

it('scans a 100,000-file tree within its entry budget and still finds the stack at the top', async () => {
  const proposal = await detectContext(root);
  expect(proposal.truncated).toBe(true);
  expect(proposal.scannedFiles).toBeLessThanOrEqual(defaults().maxEntries);
  expect(proposal.scannedFiles).toBeGreaterThan(defaults().maxEntries / 2);
  expect(proposal.stacks.map((stack) => stack.name)).toEqual(['nextjs', 'react', 'node']);
  expect(proposal.stacks[0]).toMatchObject({ version: '14.2', evidence: expect.arrayContaining(['next.config.js']) });
  expect(Object.keys(proposal.extensions)[0]).toBe('.ts');
});
