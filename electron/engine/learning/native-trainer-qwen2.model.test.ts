/**
 * The trainer on a qwen2 base: Qwen2.5-Coder-0.5B, the smallest qwen2 in the catalogue (needs
 * `npm run build:trainer` and `npm run fetch-models`). The adapter it writes loads in node-llama-cpp,
 * which measures the NLL the trainer measures; the store's validator accepts it for its base and
 * refuses it, naming the model it was trained on, for a base of another architecture (SmolLM2) or
 * of another size (coder-1.5b, whose header alone is read). The work is bounded: 6 steps of 32
 * tokens on the top 2 blocks, 2 windows evaluated.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectAdapter, metadataString, readBaseModelShapes, readGgufHeader } from '../adapters/gguf.js';
import { findCatalogueEntry } from '../model/catalogue.js';
import { pythonStdlib } from '../test/python-stdlib.js';
import { defaultModelPath, fixtureModelPath, fixtureModelsDir, rejection, tempHome, type TempHome } from '../test/support.js';
import { evalArgs, TrainerProcess, trainArgs, trainerBinary, type TrainerEvent } from './native-trainer.js';

const qwen05 = join(fixtureModelsDir, findCatalogueEntry('coder-0.5b')!.fileName);
const ctx = 32;
const windows = 2;

let home: TempHome;
let binary: string;
let text: string;
let textFile: string;
let adapter: string;
let trainStart: Extract<TrainerEvent, { type: 'start' }>;

beforeAll(async () => {
  home = tempHome('npllm-trainer-qwen2-');
  binary = trainerBinary();
  text = readFileSync(join(pythonStdlib('the text both sides score'), 'json', 'decoder.py'), 'utf8').slice(0, 1500);
  textFile = join(home.home, 'decoder.txt');
  writeFileSync(textFile, text);
  adapter = join(home.home, 'qwen2.gguf');
  // A large learning rate on the text that is then evaluated: 6 steps move its NLL visibly.
  const events = await new TrainerProcess(
    binary,
    trainArgs({
      model: qwen05,
      data: [textFile],
      out: adapter,
      ctx,
      threads: 1,
      rank: 2,
      alpha: 4,
      steps: 6,
      lr: 3e-3,
      layers: { top: 2 },
      targets: ['attn_q', 'attn_v', 'ffn_down'],
    }),
  ).finished;
  trainStart = events.find((event): event is Extract<TrainerEvent, { type: 'start' }> => event.type === 'start')!;
});

afterAll(() => home.cleanup());

/** Mean NLL of the next token over the trainer's first windows: each window of `ctx` tokens on its own. */
async function nodeLlamaNll(adapterPath: string | null): Promise<number> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: qwen05 });
  try {
    const tokens = model.tokenize(text);
    const context = await model.createContext({
      contextSize: ctx,
      batchSize: ctx,
      threads: 1,
      ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath, scale: 1 }] } } : {}),
    });
    const sequence = context.getSequence();
    let sum = 0;
    let count = 0;
    for (let window = 0, offset = 0; window < windows; window++, offset += ctx) {
      await sequence.clearHistory();
      const input = tokens.slice(offset, offset + ctx);
      const out = await sequence.controlledEvaluate(
        input.map((token, index) => [
          token,
          {
            generateNext: {
              logits: { filter: { tokens: [tokens[offset + index + 1]!], includeTop: 1 } },
              totalLogitWeight: true,
              options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
            },
          },
        ]),
      );
      for (let index = 0; index < input.length; index++) {
        const next = out[index]!.next;
        const target = next.logits!.get(tokens[offset + index + 1]!)!;
        sum += Math.max(...next.logits!.values()) + Math.log(next.totalLogitWeight!) - target;
        count++;
      }
    }
    await context.dispose();
    return sum / count;
  } finally {
    await model.dispose();
    await llama.dispose();
  }
}

const trainerNll = async (adapterPath: string | null) => {
  const events = await new TrainerProcess(
    binary,
    evalArgs({ model: qwen05, data: [textFile], ctx, threads: 1, maxWindows: windows, ...(adapterPath ? { adapter: adapterPath } : {}) }),
  ).finished;
  return (events.find((event) => event.type === 'eval') as Extract<TrainerEvent, { type: 'eval' }>).nll;
};

describe('npllm-train on qwen2 (Qwen2.5-Coder-0.5B)', () => {
  it('trains the top blocks of the qwen2 base', () => {
    expect(trainStart).toMatchObject({ layers: [22, 23], modelLayers: 24, loraTensors: 12 });
  });

  it('writes an adapter node-llama-cpp loads, with the NLL the trainer measures', async () => {
    const [trainerBase, trainerAdapted] = [await trainerNll(null), await trainerNll(adapter)];
    const [nodeBase, nodeAdapted] = [await nodeLlamaNll(null), await nodeLlamaNll(adapter)];
    expect(trainerAdapted).toBeLessThan(trainerBase - 0.05);
    // Kernels differ by build and ISA (native/README.md, numerical spread): agreement within 0.02 nats.
    expect(Math.abs(nodeBase - trainerBase)).toBeLessThan(0.02);
    expect(Math.abs(nodeAdapted - trainerAdapted)).toBeLessThan(0.02);
    expect(nodeAdapted).toBeLessThan(nodeBase - 0.05);
  });

  it("passes the store's validator for its base, and names the model it belongs to for any other", async () => {
    const info = await inspectAdapter(adapter, { base: await readBaseModelShapes(qwen05) });
    expect(info).toMatchObject({ architecture: 'qwen2', rank: 2, alpha: 4 });
    expect(info.targets).toHaveLength(6);
    const trainedOn = metadataString(await readGgufHeader(qwen05, { maxArrayItems: 0 }), 'general.name')!;

    const otherArchitecture = await rejection(inspectAdapter(adapter, { base: await readBaseModelShapes(fixtureModelPath) }));
    expect(otherArchitecture.code).toBe('ADAPTER_MISMATCH');
    expect(otherArchitecture.message).toContain(
      `is for the qwen2 architecture, but the base model ${fixtureModelPath} is llama. It was trained on ${trainedOn}.`,
    );
    expect(otherArchitecture.fix).toContain(`the model it was trained on (${trainedOn})`);

    const otherSize = await rejection(inspectAdapter(adapter, { base: await readBaseModelShapes(defaultModelPath) }));
    expect(otherSize.code).toBe('ADAPTER_MISMATCH');
    expect(otherSize.message).toMatch(/does not fit the base model .*: blk\.22\.\w+\.weight is \[\d+, \d+\]/);
    expect(otherSize.fix).toMatch(/npllm learn --project/);
  });
});
