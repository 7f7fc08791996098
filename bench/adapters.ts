/**
 * What serving with LoRA adapters costs: checking an adapter file (header, shapes, SHA-256),
 * creating a context with an adapter (first load of the file, then cached), switching the set per
 * request, and the decode speed with an adapter on every projection versus the bare model. The
 * configurations take turns within each repeat. The last stdout line is the JSON summary.
 *
 *   node dist/bench/adapters.js [--repeats 3] [--max-tokens 48]
 *
 * NPLLM_CONTEXT_SIZE, NPLLM_MODEL and NPLLM_MODELS_DIR are honoured as by npllm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel, type LlamaContext, type LlamaModel } from 'node-llama-cpp';
import { freshLora, writeLoraAdapter } from '../electron/engine/adapters/gguf-writer.js';
import { inspectAdapter, readBaseModelShapes } from '../electron/engine/adapters/gguf.js';
import { loadConfig } from '../electron/engine/config/config.js';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { fixtureModelsDir } from '../electron/engine/test/support.js';
import { bareGenerate, loadAverage, median, positiveIntFlag, progress, prompts, round, table, type BareSample } from './measure.js';

const { values: flags } = parseArgs({ options: { repeats: { type: 'string' }, 'max-tokens': { type: 'string' } } });
const repeats = positiveIntFlag('repeats', flags.repeats, 3);
const maxTokens = positiveIntFlag('max-tokens', flags['max-tokens'], 48);

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

async function main(): Promise<void> {
  const config = loadConfig({ env: { ...process.env, NPLLM_MODELS_DIR: process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir } });
  const modelPath = config.model.path ?? join(config.model.cacheDir!, findCatalogueEntry(config.model.name)!.fileName);
  const contextSize = config.model.contextSize;
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-bench-adapters-'));
  try {
    progress(`load average ${loadAverage()}; ${modelPath}, context ${contextSize}, maxTokens ${maxTokens}`);
    const shapes = await readBaseModelShapes(modelPath);
    const shapeTimes: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) shapeTimes.push((await timed(() => readBaseModelShapes(modelPath)))[1]);

    // Rank 8 on every projection of every layer (the largest adapter npllm trains) and on q/v only.
    const files = { all: join(scratch, 'all.gguf'), qv: join(scratch, 'qv.gguf') };
    const [all, writeMs] = await timed(() =>
      writeLoraAdapter(files.all, freshLora(shapes, { targets: /(attn_(q|k|v|output)|ffn_(gate|up|down))\.weight$/, rank: 8, alpha: 16, b: 0.01 })),
    );
    const qv = await writeLoraAdapter(files.qv, freshLora(shapes, { targets: /attn_(q|v)\.weight$/, rank: 8, alpha: 16, b: 0.01 }));
    const inspectTimes: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) inspectTimes.push((await timed(() => inspectAdapter(files.all, { base: shapes, sha256: all.sha256 })))[1]);
    progress(`adapters: all projections ${round(all.bytes / 1e6)} MB written in ${round(writeMs)} ms; q/v ${round(qv.bytes / 1e6)} MB`);

    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model: LlamaModel = await llama.loadModel({ modelPath });
    const create = (file?: string) =>
      model.createContext({ contextSize, threads: 1, sequences: 1, ...(file ? { lora: { adapters: [{ filePath: file, scale: 1 }] } } : {}) });
    const creation: Record<string, number[]> = { none: [], 'all (first load)': [], 'qv (first load)': [], 'all (cached)': [], 'qv (cached)': [] };
    for (const [label, file] of [['none'], ['all (first load)', files.all], ['qv (first load)', files.qv]] as const) {
      const [context, ms] = await timed(() => create(file));
      creation[label]!.push(ms);
      await context.dispose();
    }
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const [label, file] of [['none'], ['all (cached)', files.all], ['qv (cached)', files.qv]] as const) {
        const [context, ms] = await timed(() => create(file));
        (creation[label] ??= []).push(ms);
        await context.dispose();
      }
    }

    const samples: Record<string, BareSample[]> = { none: [], all: [] };
    const settings = { systemPrompt: config.model.systemPrompt, maxTokens, temperature: 0 };
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const [label, file] of [['none'], ['all', files.all]] as const) {
        const context: LlamaContext = await create(file);
        const sequence = context.getSequence();
        for (const question of [prompts[0]!, prompts[4]!]) samples[label]!.push(await bareGenerate(sequence, question, settings));
        await context.dispose();
      }
      progress(`repeat ${repeat + 1}/${repeats} done`);
    }
    await llama.dispose();

    const summary = {
      loadAverage: loadAverage(),
      contextSize,
      repeats,
      adapterMb: { all: round(all.bytes / 1e6), qv: round(qv.bytes / 1e6) },
      baseShapesMs: round(median(shapeTimes)),
      inspectAllMs: round(median(inspectTimes)),
      writeAllMs: round(writeMs),
      createContextMs: Object.fromEntries(Object.entries(creation).map(([label, times]) => [label, round(median(times))])),
      decode: Object.fromEntries(
        Object.entries(samples).map(([label, list]) => [
          label,
          { tokensPerSecond: round(median(list.map((s) => s.tokensPerSecond))), ttftMs: round(median(list.map((s) => s.ttftMs))) },
        ]),
      ),
    };
    process.stdout.write(`${table(['create context', 'median ms'], Object.entries(summary.createContextMs))}\n\n`);
    process.stdout.write(
      `${table(
        ['adapter', 'decode tok/s', 'TTFT ms'],
        Object.entries(summary.decode).map(([label, d]) => [label, d.tokensPerSecond, d.ttftMs]),
      )}\n\n`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
