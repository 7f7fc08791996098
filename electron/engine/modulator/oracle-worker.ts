/**
 * A child process that measures the oracle grid (modulator/oracle.ts): it loads the base model
 * once, and for every mix of the grid sets the adapters' scales and scores every example's
 * reference. Off the serving process, so the answer path never shares llama.cpp with it; the
 * engine pauses it (SIGSTOP) while a question is answered. Reads one job as JSON on stdin, writes
 * one JSON object per line.
 */
import { MixScorer } from './scorer.js';

interface Job {
  modelPath: string;
  contextSize: number;
  threads: number;
  /** Adapter files in the order of the grid's columns. */
  adapters: string[];
  /** One scale per adapter for each mix. */
  mixes: number[][];
  examples: { prompt: string; reference: string }[];
}

async function main(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const job = JSON.parse(text) as Job;
  const scorer = await MixScorer.open({ modelPath: job.modelPath, contextSize: job.contextSize, threads: job.threads });
  try {
    const examples = job.examples.map((example) => ({ prompt: scorer.tokenize(example.prompt), reference: scorer.tokenize(example.reference) }));
    for (const [mix, scales] of job.mixes.entries()) {
      await scorer.setMix(scales.map((scale, index) => ({ path: job.adapters[index]!, scale })));
      for (const [example, tokens] of examples.entries()) {
        const nll = await scorer.score(tokens);
        process.stdout.write(`${JSON.stringify({ type: 'nll', mix, example, nll })}\n`);
      }
    }
    process.stdout.write(`${JSON.stringify({ type: 'done' })}\n`);
  } finally {
    await scorer.dispose();
  }
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ type: 'error', message: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
});
