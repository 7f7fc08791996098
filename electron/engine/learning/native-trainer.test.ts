import { describe, expect, it } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { evalArgs, importanceArgs, layersArg, parseLayerSelection, trainArgs } from './native-trainer.js';

describe('trainer arguments', () => {
  it('spells a layer selection as --layers takes it', () => {
    expect(layersArg('all')).toBe('all');
    expect(layersArg({ top: 8 })).toBe('top:8');
    expect(layersArg({ from: 20, to: 27 })).toBe('20-27');
    expect(layersArg({ from: 3, to: 3 })).toBe('3-3');
  });

  it('reads a selection written as --layers takes it', () => {
    expect(parseLayerSelection('all')).toBe('all');
    expect(parseLayerSelection('top:8')).toEqual({ top: 8 });
    expect(parseLayerSelection(' 20-27 ')).toEqual({ from: 20, to: 27 });
    expect(parseLayerSelection('5')).toEqual({ from: 5, to: 5 });
    expect(() => parseLayerSelection('top8')).toThrow(/not all, top:N, A-B or A/);
    expect(() => parseLayerSelection('top:0')).toThrow(/layers.top must be an integer >= 1/);
    expect(() => parseLayerSelection('9-3')).toThrow(/is after/);
  });

  it('refuses selections the trainer would refuse, naming the setting', () => {
    for (const [selection, message] of [
      [{ top: 0 }, /layers.top must be an integer >= 1, got 0/],
      [{ top: 2.5 }, /layers.top must be an integer/],
      [{ from: -1, to: 3 }, /layers.from must be an integer >= 0/],
      [{ from: 5, to: 4 }, /layers.from \(5\) is after layers.to \(4\)/],
    ] as const) {
      let thrown: unknown;
      try {
        layersArg(selection);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(NpllmError);
      expect((thrown as NpllmError).code).toBe('REQUEST_INVALID');
      expect((thrown as NpllmError).message).toMatch(message);
      expect((thrown as NpllmError).fix).toBeTruthy();
    }
  });

  it('builds train arguments, leaving out what is not set', () => {
    expect(trainArgs({ model: 'm.gguf', data: ['a.jsonl'], out: 'o.gguf' })).toEqual(['train', '--model', 'm.gguf', '--data', 'a.jsonl', '--out', 'o.gguf']);
    expect(
      trainArgs({
        model: 'm.gguf',
        data: ['a.jsonl', 'b.txt'],
        out: 'o.gguf',
        ctx: 128,
        threads: 1,
        rank: 16,
        alpha: 32,
        targets: ['attn_q', 'attn_v', 'ffn_down'],
        layers: { top: 8 },
        lr: 2e-4,
        lrMin: 2e-5,
        warmup: 10,
        steps: 150,
        seed: 7,
        shuffle: false,
        mas: { importance: 'omega.gguf', lambda: 100 },
      }),
    ).toEqual([
      'train',
      '--model',
      'm.gguf',
      '--data',
      'a.jsonl',
      '--data',
      'b.txt',
      '--ctx',
      '128',
      '--threads',
      '1',
      '--out',
      'o.gguf',
      '--rank',
      '16',
      '--alpha',
      '32',
      '--targets',
      'attn_q,attn_v,ffn_down',
      '--layers',
      'top:8',
      '--lr',
      '0.0002',
      '--lr-min',
      '0.00002',
      '--warmup',
      '10',
      '--steps',
      '150',
      '--seed',
      '7',
      '--no-shuffle',
      '--mas-importance',
      'omega.gguf',
      '--mas-lambda',
      '100',
    ]);
    expect(trainArgs({ model: 'm', data: ['d'], out: 'o', adapterIn: 'parent.gguf', mas: { importance: 'w', lambda: 1, anchor: 'star.gguf' } })).toEqual([
      'train',
      '--model',
      'm',
      '--data',
      'd',
      '--out',
      'o',
      '--adapter-in',
      'parent.gguf',
      '--mas-importance',
      'w',
      '--mas-lambda',
      '1',
      '--mas-anchor',
      'star.gguf',
    ]);
  });

  it('refuses empty data and targets, and non-integer counts', () => {
    expect(() => trainArgs({ model: 'm', data: [], out: 'o' })).toThrow(/at least one data file/);
    expect(() => trainArgs({ model: 'm', data: ['d'], out: 'o', targets: [] })).toThrow(/targets is empty/);
    expect(() => trainArgs({ model: 'm', data: ['d'], out: 'o', steps: 1.5 })).toThrow(/steps must be an integer/);
    expect(() => trainArgs({ model: 'm', data: ['d'], out: 'o', lr: Number.NaN })).toThrow(/lr must be a finite number/);
  });

  it('builds eval and importance arguments', () => {
    expect(evalArgs({ model: 'm', data: ['h.jsonl'], ctx: 128, threads: 2, adapter: 'a.gguf', maxWindows: 24 })).toEqual([
      'eval',
      '--model',
      'm',
      '--data',
      'h.jsonl',
      '--ctx',
      '128',
      '--threads',
      '2',
      '--adapter',
      'a.gguf',
      '--max-windows',
      '24',
    ]);
    expect(evalArgs({ model: 'm', data: ['h'], adapter: 'a', scale: 0 })).toEqual(['eval', '--model', 'm', '--data', 'h', '--adapter', 'a', '--scale', '0']);
    expect(importanceArgs({ model: 'm', data: ['c'], adapter: 'a', out: 'w.gguf', maxWindows: 32 })).toEqual([
      'importance',
      '--model',
      'm',
      '--data',
      'c',
      '--adapter',
      'a',
      '--out',
      'w.gguf',
      '--max-windows',
      '32',
    ]);
  });
});
