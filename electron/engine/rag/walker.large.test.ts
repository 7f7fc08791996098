import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emptyFileTree } from '../test/support.js';
import { walkProject } from './walker.js';

/** A project of 100,000 files: 100 folders of 1,000, every tenth one ignored by the root .gitignore. */
const folders = 100;
const filesPerFolder = 1000;

let root: string;

beforeAll(() => {
  root = emptyFileTree('npllm-walker-large-', { folders, filesPerFolder, fileName: (file) => (file % 10 === 0 ? `f${file}.tmp` : `f${file}.ts`) });
  writeFileSync(join(root, '.gitignore'), '*.tmp\n');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Heap that is still reachable: garbage not yet collected would make the measurement noise. */
function liveHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

it('walks 100,000 files in bounded memory', async ({ annotate }) => {
  const heapBefore = liveHeap();
  let peakGrowth = 0;
  let yielded = 0;
  let ignored = 0;
  let previous = '';
  let inOrder = true;
  const started = performance.now();
  for await (const entry of walkProject(root, { onSkip: (reason) => (ignored += reason === 'ignored' ? 1 : 0) })) {
    inOrder &&= previous < entry.relativePath;
    previous = entry.relativePath;
    yielded++;
    if (yielded % 10_000 === 0) peakGrowth = Math.max(peakGrowth, liveHeap() - heapBefore);
  }
  const seconds = (performance.now() - started) / 1000;
  await annotate(
    `walked ${yielded + ignored} files in ${seconds.toFixed(2)} s (10 forced GCs included), peak live heap growth ${(peakGrowth / 2 ** 20).toFixed(1)} MiB`,
  );

  expect(yielded).toBe(folders * filesPerFolder * 0.9 + 1);
  expect(ignored).toBe(folders * filesPerFolder * 0.1);
  expect(inOrder).toBe(true);
  // Keeping the 90,001 entries alone would grow the heap by about 28 MiB; the walk holds one folder's listing at a time.
  expect(peakGrowth).toBeLessThan(8 * 2 ** 20);
});
