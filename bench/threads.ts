/**
 * How many llama.cpp threads should npllm use? Generation speed and time to first token for 1 and
 * 2 threads, with the machine idle and with another core kept busy by a CPU-burning child process
 * (what the learner, a build or a browser do to a real machine). The configurations take turns
 * within each repeat so that load from elsewhere drifts over all of them alike. The last stdout
 * line is the JSON summary.
 *
 *   node dist/bench/threads.js [--repeats 2] [--max-tokens 64] [--cap-seconds 15]
 *
 * NPLLM_CONTEXT_SIZE, NPLLM_MODEL and NPLLM_MODELS_DIR are honoured as by npllm.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel, type LlamaContextSequence } from 'node-llama-cpp';
import { loadConfig } from '../electron/engine/config/config.js';
import { defaultThreads } from '../electron/engine/model/config.js';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { fixtureModelsDir } from '../electron/engine/test/support.js';
import {
  bareGenerate,
  loadAverage,
  median,
  otherCpuMeter,
  positiveIntFlag,
  progress,
  prompts,
  round,
  table,
  type BareSample,
  type BareSettings,
} from './measure.js';

const { values: flags } = parseArgs({ options: { repeats: { type: 'string' }, 'max-tokens': { type: 'string' }, 'cap-seconds': { type: 'string' } } });
const repeats = positiveIntFlag('repeats', flags.repeats, 2);
const maxTokens = positiveIntFlag('max-tokens', flags['max-tokens'], 64);
const capMs = positiveIntFlag('cap-seconds', flags['cap-seconds'], 15) * 1000;

/** A short question, the long one with code (prompt processing shows there) and a medium one. */
const questions = [prompts[1]!, prompts[4]!, prompts[2]!];
const threadCounts = [1, 2] as const;
const loads = ['idle', 'busy'] as const;
type Load = (typeof loads)[number];

interface Configuration {
  threads: number;
  load: Load;
  samples: BareSample[];
  otherCpuCores: number[];
  capped: number;
}

async function main(): Promise<void> {
  const config = loadConfig({ env: { ...process.env, NPLLM_MODELS_DIR: process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir } });
  const modelPath = config.model.path ?? join(config.model.cacheDir!, findCatalogueEntry(config.model.name)!.fileName);
  const settings: BareSettings = { systemPrompt: config.model.systemPrompt, maxTokens, temperature: config.model.temperature };
  progress(`${cpus().length} cores, load average ${loadAverage()}; ${modelPath}, context ${config.model.contextSize}, maxTokens ${maxTokens}`);

  let started = performance.now();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const getLlamaMs = performance.now() - started;
  started = performance.now();
  const model = await llama.loadModel({ modelPath });
  const loadModelMs = performance.now() - started;
  const sequences = new Map<number, LlamaContextSequence>();
  const createContextMs: number[] = [];
  for (const threads of threadCounts) {
    started = performance.now();
    const context = await model.createContext({ contextSize: config.model.contextSize, threads, sequences: 1 });
    createContextMs.push(performance.now() - started);
    sequences.set(threads, context.getSequence());
  }
  progress(`getLlama ${round(getLlamaMs)} ms, loadModel ${round(loadModelMs)} ms, createContext ${createContextMs.map((ms) => round(ms)).join(' / ')} ms`);

  for (const [threads, sequence] of sequences) {
    await bareGenerate(sequence, prompts[0]!, { ...settings, maxTokens: 16 });
    progress(`warm-up done for ${threads} thread(s)`);
  }

  const configurations: Configuration[] = loads.flatMap((load) =>
    threadCounts.map((threads) => ({ threads, load, samples: [], otherCpuCores: [], capped: 0 })),
  );
  let burner: ChildProcess | undefined;
  try {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const load of loads) {
        burner = load === 'busy' ? await startBurner() : await stopBurner(burner);
        for (const configuration of configurations.filter((c) => c.load === load)) {
          for (const question of questions) {
            const meter = otherCpuMeter();
            const signal = AbortSignal.timeout(capMs);
            const result = await bareGenerate(sequences.get(configuration.threads)!, question, settings, signal);
            configuration.otherCpuCores.push(meter());
            configuration.samples.push(result);
            if (signal.aborted) configuration.capped++;
            progress(
              `repeat ${repeat + 1}/${repeats} ${load} ${configuration.threads} thread(s): ttft ${round(result.ttftMs)} ms (${result.promptTokens} prompt tokens), ` +
                `${result.tokens} tokens at ${round(result.tokensPerSecond)} tok/s${signal.aborted ? ` (stopped at the ${capMs / 1000} s cap)` : ''}`,
            );
          }
        }
      }
    }
  } finally {
    await stopBurner(burner);
  }
  await llama.dispose();

  const rows = configurations.map((c) => {
    const promptEvalMs = c.samples.map((s) => s.ttftMs - s.setupMs);
    const promptTokens = c.samples.reduce((sum, s) => sum + s.promptTokens, 0);
    return {
      threads: c.threads,
      load: c.load,
      tokensPerSecond: round(median(c.samples.map((s) => s.tokensPerSecond))),
      ttftMs: round(median(c.samples.map((s) => s.ttftMs))),
      promptEvalMs: round(median(promptEvalMs)),
      promptTokensPerSecond: round(promptTokens / (promptEvalMs.reduce((sum, ms) => sum + ms, 0) / 1000)),
      otherCpuCores: round(median(c.otherCpuCores), 2),
      runs: c.samples.length,
      capped: c.capped,
    };
  });
  const find = (threads: number, load: Load) => rows.find((row) => row.threads === threads && row.load === load)!;

  console.log(`\nllama.cpp threads on ${cpus().length} cores, maxTokens ${maxTokens}, ${repeats} repeat(s) of ${questions.length} prompts, medians\n`);
  console.log(
    table(
      ['threads', 'other core', 'gen tok/s', 'TTFT ms', 'prompt eval ms', 'prompt tok/s', 'others (cores)', 'runs', 'capped'],
      rows.map((r) => [r.threads, r.load, r.tokensPerSecond, r.ttftMs, r.promptEvalMs, r.promptTokensPerSecond, r.otherCpuCores, r.runs, r.capped]),
    ),
  );
  console.log('\nTTFT includes building the chat session (resolving the chat template), as in the engine; prompt eval is TTFT without it.');

  const summary = {
    configurations: rows,
    idleGenerationSpeedup2vs1: round(find(2, 'idle').tokensPerSecond / find(1, 'idle').tokensPerSecond, 2),
    idlePromptEvalSpeedup2vs1: round(find(1, 'idle').promptEvalMs / find(2, 'idle').promptEvalMs, 2),
    busyGenerationSlowdown2vs1: round(find(1, 'busy').tokensPerSecond / find(2, 'busy').tokensPerSecond, 2),
    busyPromptEvalSlowdown2vs1: round(find(2, 'busy').promptEvalMs / find(1, 'busy').promptEvalMs, 2),
    configDefaultThreads: defaultThreads(cpus().length),
    cores: cpus().length,
    getLlamaMs: round(getLlamaMs),
    loadModelMs: round(loadModelMs),
    createContextMs: createContextMs.map((ms) => round(ms)),
    contextSize: config.model.contextSize,
    maxTokens,
    repeats,
    prompts: questions.length,
    capSeconds: capMs / 1000,
    loadAverage: loadAverage(),
  };
  console.log(JSON.stringify(summary));
}

/**
 * One spinning process keeps one core busy. It exits by itself once orphaned, so a benchmark
 * killed mid-run does not leave it burning the machine.
 */
const burnerScript = 'const parent = process.ppid; for (let i = 1; ; i++) if (i % 1e7 === 0 && process.ppid !== parent) process.exit();';

async function startBurner(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', burnerScript], { stdio: 'ignore' });
  await once(child, 'spawn');
  // Let it get past start-up and onto its core before anything is timed.
  await sleep(500);
  return child;
}

async function stopBurner(child: ChildProcess | undefined): Promise<undefined> {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  return undefined;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
