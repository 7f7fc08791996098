/**
 * The native LoRA trainer on the real SmolLM2 (needs `npm run build:trainer` and `npm run
 * fetch-models`): it trains an adapter that the adapter store accepts for this base and that
 * lowers the NLL of its training text, pauses and stops on request, and names bad input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectAdapter, readBaseModelShapes } from '../adapters/gguf.js';
import { fixtureModelPath, rejection, tempHome, type TempHome } from '../test/support.js';
import { TrainerProcess, trainerBinary, type TrainerEvent } from './native-trainer.js';

let home: TempHome;
let binary: string;
let train: string;

beforeAll(() => {
  home = tempHome('npllm-trainer-');
  binary = trainerBinary();
  train = join(home.home, 'train.txt');
  writeFileSync(train, readFileSync('/usr/lib/python3.11/json/encoder.py', 'utf8').slice(0, 2500));
  });

afterAll(() => home.cleanup());

const nll = (events: TrainerEvent[]) => (events.find((event) => event.type === 'eval') as Extract<TrainerEvent, { type: 'eval' }>).nll;

describe('npllm-train', () => {
  it('trains an adapter the store accepts for this base, which lowers the NLL of what it learned', async () => {
    const out = join(home.home, 'adapter.gguf');
    const losses: number[] = [];
    const events = await new TrainerProcess(binary, ['train', '--model', fixtureModelPath, '--data', train, '--out', out, '--rank', '4', '--ctx', '64', '--epochs', '3', '--lr', '1e-4', '--threads', '1', '--targets', 'attn_q,attn_v,ffn_up'], {
      onEvent: (event) => event.type === 'step' && event.loss !== null && losses.push(event.loss),
    }).finished;
    expect(events.at(-1)).toMatchObject({ type: 'done', stopped: 'complete', out });
    expect(losses.length).toBeGreaterThan(10);
    expect(losses.every(Number.isFinite)).toBe(true);

    const info = await inspectAdapter(out, { base: await readBaseModelShapes(fixtureModelPath) });
    expect(info.rank).toBe(4);

    // Per-step losses are of different windows; the same windows evaluated before and after are the measure.
    const evaluate = async (adapter?: string) => nll(await new TrainerProcess(binary, ['eval', '--model', fixtureModelPath, '--data', train, '--ctx', '64', '--threads', '1', ...(adapter ? ['--adapter', adapter] : [])]).finished);
    const [before, after] = [await evaluate(), await evaluate(out)];
    expect(after).toBeLessThan(before);
  });

  it('stops at a step boundary when cancelled, still writing the adapter, and survives a pause', async () => {
    const out = join(home.home, 'stopped.gguf');
    const controller = new AbortController();
    const trainer = new TrainerProcess(binary, ['train', '--model', fixtureModelPath, '--data', train, '--out', out, '--rank', '2', '--ctx', '32', '--steps', '1000', '--threads', '1', '--targets', 'attn_q'], {
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
    expect(done).toMatchObject({ type: 'done', out });
    expect((done as { steps: number }).steps).toBeLessThan(1000);
    await inspectAdapter(out);
  });

  it('names bad input: a missing data file', async () => {
    const error = await rejection(new TrainerProcess(binary, ['train', '--model', fixtureModelPath, '--data', join(home.home, 'none.txt'), '--out', join(home.home, 'x.gguf')]).finished);
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.message).toMatch(/none\.txt/);
  });
});
