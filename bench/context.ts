/**
 * Stack detection on a tree too big to scan: 100,000 empty files in 100 folders of 1,000, a
 * Next.js manifest at the top. detectContext runs `--runs` times (after one warm-up run, which
 * pays for module loading and a cold dentry cache); the baseline is one complete recursive
 * listing of the same tree in the same process, what an unbounded scan would at least cost. The
 * last stdout line is the JSON summary.
 *
 *   node dist/bench/context.js [--runs 20]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectContext } from '../electron/engine/context/detect.js';
import type { ContextProposal } from '../electron/engine/context/types.js';
import { emptyFileTree } from '../electron/engine/test/support.js';
import { loadAverage, median, percentile, positiveIntFlag, progress, round, table } from './measure.js';

const folders = 100;
const filesPerFolder = 1000;

const { values: flags } = parseArgs({ options: { runs: { type: 'string' } } });
const runs = positiveIntFlag('runs', flags.runs, 20);

function buildTree(): string {
  const root = emptyFileTree('npllm-bench-context-', { folders, filesPerFolder });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'big', dependencies: { next: '^14.2.3', react: '^18.3.1' } }));
  writeFileSync(join(root, 'next.config.js'), '');
  return root;
}

async function main(): Promise<void> {
  progress(`load average ${loadAverage()}; building ${folders * filesPerFolder} files`);
  let started = performance.now();
  const root = buildTree();
  progress(`tree built in ${round((performance.now() - started) / 1000, 1)} s at ${root}`);
  try {
    started = performance.now();
    const listed = await readdir(root, { recursive: true });
    const fullListingMs = performance.now() - started;
    progress(`full recursive listing: ${listed.length} entries in ${round(fullListingMs)} ms`);

    await detectContext(root);
    const timings: number[] = [];
    let last: ContextProposal | undefined;
    for (let run = 0; run < runs; run++) {
      started = performance.now();
      last = await detectContext(root);
      timings.push(performance.now() - started);
    }
    const proposal = last!;
    const p50Ms = round(median(timings), 2);
    const p95Ms = round(percentile(timings, 0.95), 2);
    console.log(
      table(
        ['measure', 'value'],
        [
          ['detectContext p50 ms', p50Ms],
          ['detectContext p95 ms', p95Ms],
          ['detectContext max ms', round(Math.max(...timings), 2)],
          ['full recursive listing ms (baseline)', round(fullListingMs, 2)],
          ['files scanned', proposal.scannedFiles],
          ['stacks', proposal.stacks.map((stack) => [stack.name, stack.version, stack.confidence].filter((part) => part !== null).join(' ')).join(', ')],
        ],
      ),
    );
    console.log(
      JSON.stringify({
        files: folders * filesPerFolder,
        p50Ms,
        p95Ms,
        scannedFiles: proposal.scannedFiles,
        truncated: proposal.truncated,
        runs,
        fullListingMs: round(fullListingMs, 2),
        topStack: proposal.stacks[0]?.name ?? null,
        loadAverage: loadAverage(),
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
