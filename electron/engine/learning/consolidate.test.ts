/** Consolidation's pure decisions: when a new version is promoted, how many trainer threads, the project key. */
import { describe, expect, it } from 'vitest';
import { judge, learningThreads, projectKey } from './consolidate.js';

const options = { minImprovement: 0.01, forgettingTolerance: 0.02 };

describe('judge', () => {
  it('promotes a first version that improves its project', () => {
    const verdict = judge('/p', { '/p': 3 }, { '/p': 2.9 }, options);
    expect(verdict).toEqual({ promote: true, reason: 'promoted: held-out NLL on this project 3.000 → 2.900 (-3.3 %)' });
  });

  it('promotes when earlier projects stay within the tolerance, and says how many', () => {
    const verdict = judge('/p', { '/p': 3, '/a': 2, '/b': 2.5 }, { '/p': 2.9, '/a': 2.03, '/b': 2.4 }, options);
    expect(verdict.promote).toBe(true);
    expect(verdict.reason).toBe('promoted: held-out NLL on this project 3.000 → 2.900 (-3.3 %); 2 earlier projects within 2.0 %');
  });

  it('counts the exact thresholds as met: a drop of minImprovement, a rise of exactly the tolerance', () => {
    const exact = { minImprovement: 0.25, forgettingTolerance: 0.5 };
    expect(judge('/p', { '/p': 2, '/a': 2 }, { '/p': 1.75, '/a': 3 }, exact).promote).toBe(true);
  });

  it('refuses without enough improvement on this project', () => {
    const unchanged = judge('/p', { '/p': 3 }, { '/p': 3 }, options);
    expect(unchanged.promote).toBe(false);
    expect(unchanged.reason).toBe('kept experimental: held-out NLL on this project did not improve by 0.01: 3.000 → 3.000 (+0.0 %)');
    const tooLittle = judge('/p', { '/p': 3 }, { '/p': 2.995 }, options);
    expect(tooLittle.promote).toBe(false);
    expect(tooLittle.reason).toMatch(/did not improve by 0\.01: 3\.000 → 2\.995 \(-0\.2 %\)$/);
    const worse = judge('/p', { '/p': 3 }, { '/p': 3.3 }, options);
    expect(worse.reason).toMatch(/3\.000 → 3\.300 \(\+10\.0 %\)$/);
  });

  it('refuses when an earlier project worsens beyond the tolerance, naming it and only it', () => {
    const verdict = judge('/p', { '/p': 3, '/forgotten': 2, '/kept': 2 }, { '/p': 2.5, '/forgotten': 2.1, '/kept': 2.01 }, options);
    expect(verdict.promote).toBe(false);
    expect(verdict.reason).toBe('kept experimental: it forgot earlier project beyond the 2.0 % tolerance: /forgotten 2.000 → 2.100 (+5.0 %)');
    expect(verdict.reason).not.toContain('/kept');

    const both = judge('/p', { '/p': 3, '/a': 2, '/b': 1 }, { '/p': 2.5, '/a': 2.5, '/b': 1.5 }, options);
    expect(both.reason).toMatch(/forgot earlier projects beyond the 2\.0 % tolerance: \/a 2\.000 → 2\.500 \(\+25\.0 %\); \/b 1\.000 → 1\.500 \(\+50\.0 %\)$/);
  });

  it('judges this project first: no improvement is the reason even when earlier ones were forgotten too', () => {
    const verdict = judge('/p', { '/p': 3, '/a': 2 }, { '/p': 3.1, '/a': 4 }, options);
    expect(verdict.reason).toMatch(/did not improve/);
  });

  it('refuses without a finite NLL for this project (NaN, infinite or missing)', () => {
    for (const [before, after] of [
      [{ '/p': 3 }, { '/p': Number.NaN }],
      [{ '/p': Number.NaN }, { '/p': 2 }],
      [{ '/p': 3 }, { '/p': Number.POSITIVE_INFINITY }],
      [{ '/p': 3 }, {}],
      [{}, { '/p': 2 }],
    ] as Record<string, number>[][]) {
      expect(judge('/p', before!, after!, options)).toEqual({ promote: false, reason: 'kept experimental: no held-out NLL for /p' });
    }
  });

  it('leaves out an earlier project the new version was not measured on', () => {
    // consolidate() throws before judging when an evaluation gives no finite NLL; judge() itself only compares what it has.
    const verdict = judge('/p', { '/p': 3, '/a': 2 }, { '/p': 2.5, '/a': Number.NaN }, options);
    expect(verdict.promote).toBe(true);
  });
});

describe('learningThreads', () => {
  it('uses the configured count whatever the machine does', () => {
    expect(learningThreads(3, 2, 9)).toBe(3);
    expect(learningThreads(1, 16, 0)).toBe(1);
  });

  it('uses every core up to 4 on a quiet machine, 1 on a busy one', () => {
    expect(learningThreads(null, 2, 0.2)).toBe(2);
    expect(learningThreads(null, 2, 1.4)).toBe(2);
    expect(learningThreads(null, 2, 1.6)).toBe(1);
    expect(learningThreads(null, 2, 2.7)).toBe(1);
    expect(learningThreads(null, 8, 1)).toBe(4);
    expect(learningThreads(null, 8, 7.6)).toBe(1);
    expect(learningThreads(null, 1, 0)).toBe(1);
    expect(learningThreads(null, 1, 0.6)).toBe(1);
  });

  it('reads the machine when not told', () => {
    const threads = learningThreads(null);
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(threads).toBeLessThanOrEqual(4);
  });
});

describe('projectKey', () => {
  it('is a short stable hex key per project path', () => {
    expect(projectKey('/work/shop')).toMatch(/^[0-9a-f]{16}$/);
    expect(projectKey('/work/shop')).toBe(projectKey('/work/shop'));
    expect(projectKey('/work/shop')).not.toBe(projectKey('/work/crm'));
  });
});
