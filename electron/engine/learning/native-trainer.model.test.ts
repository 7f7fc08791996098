/**
 * The native LoRA trainer on the real SmolLM2 (needs `npm run build:trainer` and `npm run
 * fetch-models`): it trains an adapter that the adapter store accepts for this base and that
 * lowers the NLL of its training text, trains only the blocks asked for, pauses and stops on
 * request, and names bad input. Every run is bounded by steps, windows and tokens, never by time:
 * a busy 2-core machine may take many times longer than an idle one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectAdapter, readBaseModelShapes } from '../adapters/gguf.js';
import { pythonStdlib } from '../test/python-stdlib.js';
import { fixtureModelPath, rejection, tempHome, type TempHome } from '../test/support.js';
import { evalArgs, TrainerProcess, trainArgs, trainerBinary, type TrainerEvent } from './native-trainer.js';

let home: TempHome;
let binary: string;
let train: string;

beforeAll(() => {
  home = tempHome('npllm-trainer-');
  binary = trainerBinary();
  train = join(home.home, 'train.txt');
  // About 700 tokens: 10 windows of 64.
  writeFileSync(train, readFileSync(join(pythonStdlib('the training text'), 'json', 'encoder.py'), 'utf8').slice(0, 2500));
});

afterAll(() => home.cleanup());

const nll = (events: TrainerEvent[]) => (events.find((event) => event.type === 'eval') as Extract<TrainerEvent, { type: 'eval' }>).nll;
const common = { model: fixtureModelPath, ctx: 64, threads: 1 } as const;

describe('npllm-train', () => {
  it('trains an adapter the store accepts for this base, which lowers the NLL of what it learned', async () => {
    const out = join(home.home, 'adapter.gguf');
    const losses: number[] = [];
    const events = await new TrainerProcess(
      binary,
      trainArgs({ ...common, data: [train], out, rank: 4, steps: 24, lr: 1e-4, targets: ['attn_q', 'attn_v', 'ffn_up'] }),
      { onEvent: (event) => event.type === 'step' && event.loss !== null && losses.push(event.loss) },
    ).finished;
    expect(events.at(-1)).toMatchObject({ type: 'done', stopped: 'complete', steps: 24, out });
    expect((events.at(-1) as { peakRssMb: number }).peakRssMb).toBeGreaterThan(50);
    expect(losses).toHaveLength(24);
    expect(losses.every(Number.isFinite)).toBe(true);

    const info = await inspectAdapter(out, { base: await readBaseModelShapes(fixtureModelPath) });
    expect(info.rank).toBe(4);
    expect(info.architecture).toBe('llama');

    // Per-step losses are of different windows; the same windows evaluated before and after are the measure.
    const evaluate = async (adapter?: string) => nll(await new TrainerProcess(binary, evalArgs({ ...common, data: [train], adapter })).finished);
    const [before, after] = [await evaluate(), await evaluate(out)];
    expect(after).toBeLessThan(before);
  });

  it('puts the adapter on the top blocks only when asked, and continues it with the same blocks', async () => {
    const out = join(home.home, 'top.gguf');
    const events = await new TrainerProcess(
      binary,
      trainArgs({ ...common, data: [train], out, rank: 2, steps: 2, layers: { top: 2 }, targets: ['attn_q', 'ffn_down'] }),
    ).finished;
    expect(events[0]).toMatchObject({ type: 'start', layers: [28, 29], modelLayers: 30, loraTensors: 8 });
    const info = await inspectAdapter(out, { base: await readBaseModelShapes(fixtureModelPath) });
    expect(info.targets.sort()).toEqual(['blk.28.attn_q.weight', 'blk.28.ffn_down.weight', 'blk.29.attn_q.weight', 'blk.29.ffn_down.weight']);

    // The file fixes the blocks of a continued adapter, whatever --layers says.
    const continued = await new TrainerProcess(
      binary,
      trainArgs({ ...common, data: [train], out: join(home.home, 'top2.gguf'), adapterIn: out, steps: 1, layers: { from: 0, to: 3 } }),
    ).finished;
    expect(continued[0]).toMatchObject({ type: 'start', layers: [28, 29], resumedSteps: 2 });

    const error = await rejection(
      new TrainerProcess(binary, trainArgs({ ...common, data: [train], out: join(home.home, 'x.gguf'), steps: 1, layers: { from: 25, to: 30 } })).finished,
    );
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.message).toMatch(/--layers 25-30 goes past the model's last block \(29; it has 30 blocks\)/);
  });

  it('stops at a step boundary when cancelled, still writing the adapter, and survives a pause', async () => {
    const out = join(home.home, 'stopped.gguf');
    const controller = new AbortController();
    // 40 steps bound the run if the stop were lost; the abort comes after step 4.
    const trainer = new TrainerProcess(binary, trainArgs({ ...common, ctx: 32, data: [train], out, rank: 2, steps: 40, targets: ['attn_q'] }), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type !== 'step') return;
        if (event.step === 2) {
          trainer.pause();
          setTimeout(() => trainer.resume(), 300);
        }
        if (event.step === 4) controller.abort();
      },
    });
    const events = await trainer.finished;
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'done', stopped: 'signal', out });
    expect((done as { steps: number }).steps).toBeGreaterThanOrEqual(4);
    expect((done as { steps: number }).steps).toBeLessThan(40);
    await inspectAdapter(out);
  });

  it('names bad input: a missing data file', async () => {
    const error = await rejection(
      new TrainerProcess(binary, trainArgs({ model: fixtureModelPath, data: [join(home.home, 'none.txt')], out: join(home.home, 'x.gguf') })).finished,
    );
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.message).toMatch(/none\.txt/);
  });
});
