/** The held-out scorer: frozen sets, group files, the score cache keyed by model content, the cells it reports. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupScore } from '../../../shared/learning-metrics.js';
import { tempHome, type TempHome } from '../test/support.js';
import { freezeHeldOut, frozenHeldOut, HeldOutScorer, type ScoredModel } from './held-out.js';

let home: TempHome;
beforeEach(() => {
  home = tempHome('npllm-heldout-');
});
afterEach(() => home.cleanup());

const texts = Array.from({ length: 6 }, (_, index) => ({ unit: `f${index}.py`, text: `def f${index}():\n    return ${index}\n`.repeat(20 + index) }));
const options = { heldOutWindows: 8, evalGroups: 3, ctx: 128 as const };
const base: ScoredModel = { version: 0, key: 'base:feed', file: null };
const candidate: ScoredModel = { version: null, key: 'sha-of-new', file: '/tmp/new.gguf' };

/** A fake trainer eval: NLL from the file's content and the adapter, tokens from its length; counts its calls. */
function fakeEval() {
  const calls: string[] = [];
  const evaluate = (file: string, adapter: string | null): Promise<GroupScore> => {
    calls.push(`${file.split('/').at(-1)} ${adapter ?? 'base'}`);
    const content = readFileSync(file, 'utf8');
    return Promise.resolve({ nll: (adapter ? 1.5 : 2) + (content.length % 7) / 100, tokens: Math.ceil(content.length / 3.2) });
  };
  return { calls, evaluate };
}

describe('frozen held-out sets', () => {
  it('freeze once and read back the same texts, units and hash', async () => {
    const frozen = await freezeHeldOut(home.home, 'odoo', '/work/shop', texts);
    const read = await frozenHeldOut(home.home, 'odoo', '/work/shop');
    expect(read).toEqual(frozen);
    expect(read!.units).toEqual(new Set(texts.map((text) => text.unit)));
    expect(await frozenHeldOut(home.home, 'odoo', '/work/other')).toBeNull();
    expect(await frozenHeldOut(home.home, 'django', '/work/shop')).toBeNull();
  });
});

describe('HeldOutScorer', () => {
  it('scores every group once per model, caches by sample and model content, and reports the cells it used', async () => {
    const frozen = await freezeHeldOut(home.home, 'odoo', '/work/shop', texts);
    const { calls, evaluate } = fakeEval();
    const scorer = new HeldOutScorer(home.home, join(home.home, 'run1'), options, evaluate);
    const sample = await scorer.prepare('/work/shop', frozen);
    expect(sample.groupFiles).toHaveLength(3);
    const before = await scorer.scores(sample, base);
    const after = await scorer.scores(sample, candidate);
    expect(before).toHaveLength(3);
    expect(calls).toEqual([
      'group-0.jsonl base',
      'group-1.jsonl base',
      'group-2.jsonl base',
      'group-0.jsonl /tmp/new.gguf',
      'group-1.jsonl /tmp/new.gguf',
      'group-2.jsonl /tmp/new.gguf',
    ]);
    expect(after.map((group) => group.tokens)).toEqual(before.map((group) => group.tokens));

    // Another run on the same frozen set: the same sample hash, and both models come from the cache.
    const again = new HeldOutScorer(home.home, join(home.home, 'run2'), options, evaluate);
    const same = await again.prepare('/work/shop', frozen);
    expect(same.hash).toBe(sample.hash);
    expect(await again.scores(same, base)).toEqual(before);
    expect(await again.scores(same, { ...candidate, version: 3 })).toEqual(after);
    expect(calls).toHaveLength(6);
    expect(readdirSync(join(home.home, 'learning', 'scores'))).toEqual([`${sample.hash}.json`]);

    const tokens = before.reduce((sum, group) => sum + group.tokens, 0);
    const mean = (groups: GroupScore[]) => groups.reduce((sum, group) => sum + group.nll * group.tokens, 0) / tokens;
    const cells = scorer.cells(7);
    expect(cells).toHaveLength(2);
    expect(cells[0]).toEqual({ version: 0, project: '/work/shop', nll: expect.closeTo(mean(before), 12), tokens, heldOutHash: sample.hash });
    expect(cells[1]).toEqual({ version: 7, project: '/work/shop', nll: expect.closeTo(mean(after), 12), tokens, heldOutHash: sample.hash });
  });

  it('gives another sample (other budget or window size) another hash, so its cells never mix with the old ones', async () => {
    const frozen = await freezeHeldOut(home.home, 'odoo', '/work/shop', texts);
    const { evaluate } = fakeEval();
    const one = await new HeldOutScorer(home.home, join(home.home, 'a'), options, evaluate).prepare('/work/shop', frozen);
    const moreWindows = await new HeldOutScorer(home.home, join(home.home, 'b'), { ...options, heldOutWindows: 2 }, evaluate).prepare('/work/shop', frozen);
    const otherCtx = await new HeldOutScorer(home.home, join(home.home, 'c'), { ...options, ctx: 64 }, evaluate).prepare('/work/shop', frozen);
    expect(new Set([one.hash, moreWindows.hash, otherCtx.hash]).size).toBe(3);
  });
});
