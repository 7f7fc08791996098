import { describe, expect, it } from 'vitest';
import {
  backwardTransfer,
  forwardTransfer,
  learningMatrix,
  meanAndSpread,
  pairedChange,
  relativeGain,
  shortProjectNames,
  significantGain,
  significantWorsening,
  type AdapterVersionInfo,
  type EvaluationCell,
} from './learning-metrics.js';

/** Rounds a matrix so hand-computed numbers compare without float noise. */
const rounded = (matrix: (number | null)[][]) => matrix.map((row) => row.map((value) => (value === null ? null : Math.round(value * 1e6) / 1e6)));

const cells = (version: number, values: Record<string, number>): EvaluationCell[] =>
  Object.entries(values).map(([project, nll]) => ({ version, project, nll }));

// v1 learned a, v2 (from v1) learned b, v3 (from v2) learned c and serves, v4 (from v3) learned d and was kept experimental.
const versions: AdapterVersionInfo[] = [
  { version: 3, channel: 'stable', project: '/p/c', parentVersion: 2, createdAt: '2026-01-03T00:00:00.000Z' },
  { version: 1, channel: 'archived', project: '/p/a', parentVersion: null, createdAt: '2026-01-01T00:00:00.000Z' },
  { version: 4, channel: 'experimental', project: '/p/d', parentVersion: 3, createdAt: '2026-01-04T00:00:00.000Z' },
  { version: 2, channel: 'archived', project: '/p/b', parentVersion: 1, createdAt: '2026-01-02T00:00:00.000Z' },
];
const measured: EvaluationCell[] = [
  ...cells(0, { '/p/a': 2.0, '/p/b': 4.0, '/p/c': 1.0, '/p/d': 2.5, '/p/z': 3.0 }),
  ...cells(1, { '/p/a': 1.5, '/p/b': 3.8 }),
  ...cells(2, { '/p/a': 1.6, '/p/b': 3.0 }),
  ...cells(3, { '/p/a': 1.7, '/p/b': 3.2, '/p/c': 0.8 }),
  ...cells(4, { '/p/a': 1.8, '/p/c': 0.9, '/p/d': 2.0 }),
];

describe('relativeGain', () => {
  it('is the share of the base NLL removed, null when a value is missing or the base is not an NLL', () => {
    expect(relativeGain(2, 1.5)).toBe(0.25);
    expect(relativeGain(2, 2.5)).toBe(-0.25);
    expect(relativeGain(null, 1)).toBeNull();
    expect(relativeGain(2, undefined)).toBeNull();
    expect(relativeGain(0, 1)).toBeNull();
    expect(relativeGain(Number.NaN, 1)).toBeNull();
  });
});

describe('pairedChange', () => {
  it('weighs groups by tokens and estimates the standard error from the paired per-group changes', () => {
    const before = [
      { nll: 2, tokens: 100 },
      { nll: 3, tokens: 300 },
    ];
    const after = [
      { nll: 1.8, tokens: 100 },
      { nll: 2.6, tokens: 300 },
    ];
    const result = pairedChange(before, after);
    expect(result.before).toBeCloseTo(2.75, 12);
    expect(result.after).toBeCloseTo(2.4, 12);
    expect(result.change).toBeCloseTo(-0.35, 12);
    // d = −0.2, −0.4; weights ¼, ¾: K/(K−1) · Σ w² (d − D)² = 2 · (1/16 · 0.0225 + 9/16 · 0.0025) = 0.005625.
    expect(result.standardError).toBeCloseTo(Math.sqrt(0.005625), 12);
    expect(result).toMatchObject({ groups: 2, tokens: 400 });
  });

  it('has no spread when every group moved alike, and an infinite one with a single group', () => {
    const same = pairedChange(
      [
        { nll: 2, tokens: 10 },
        { nll: 3, tokens: 10 },
      ],
      [
        { nll: 1.9, tokens: 10 },
        { nll: 2.9, tokens: 10 },
      ],
    );
    expect(same.change).toBeCloseTo(-0.1, 12);
    expect(same.standardError).toBeCloseTo(0, 12);
    expect(pairedChange([{ nll: 2, tokens: 10 }], [{ nll: 1, tokens: 10 }]).standardError).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses scores of different groups or tokens (not the same text)', () => {
    expect(() => pairedChange([{ nll: 2, tokens: 10 }], [])).toThrow(/same groups/);
    expect(() => pairedChange([{ nll: 2, tokens: 10 }], [{ nll: 2, tokens: 11 }])).toThrow(/10 tokens before and 11 after/);
    expect(() => pairedChange([{ nll: 2, tokens: 0 }], [{ nll: 2, tokens: 0 }])).toThrow(/no tokens/);
  });

  it('shrinks like 1/√K for independent groups: the spread of a file set, measured', () => {
    // 64 groups whose changes scatter ±0.1 around −0.05: SE ≈ 0.1/√64.
    const before = Array.from({ length: 64 }, () => ({ nll: 2, tokens: 50 }));
    const after = before.map((group, index) => ({ nll: 2 - 0.05 + (index % 2 === 0 ? 0.1 : -0.1), tokens: 50 }));
    const result = pairedChange(before, after);
    expect(result.change).toBeCloseTo(-0.05, 12);
    expect(result.standardError).toBeCloseTo((Math.sqrt(64 / 63) * 0.1) / 8, 12);
  });
});

describe('significantGain and significantWorsening', () => {
  const at = (change: number, standardError: number) => ({ before: 2, after: 2 + change, change, standardError, groups: 8, tokens: 1000 });

  it('counts a gain only beyond minImprovement plus z standard errors', () => {
    expect(significantGain(at(-0.1, 0.02), { minImprovement: 0.01, significance: 2 })).toBe(true);
    expect(significantGain(at(-0.04, 0.02), { minImprovement: 0.01, significance: 2 })).toBe(false);
    expect(significantGain(at(-0.04, 0.02), { minImprovement: 0, significance: 1 })).toBe(true);
    expect(significantGain(at(-1, Number.POSITIVE_INFINITY), { minImprovement: 0, significance: 2 })).toBe(false);
  });

  it('counts a worsening only beyond the tolerance share of the NLL plus z standard errors', () => {
    // Tolerance 1 % of 2 = 0.02.
    expect(significantWorsening(at(0.1, 0.02), { tolerance: 0.01, significance: 2 })).toBe(true);
    expect(significantWorsening(at(0.05, 0.02), { tolerance: 0.01, significance: 2 })).toBe(false);
    expect(significantWorsening(at(-0.3, 0.01), { tolerance: 0, significance: 2 })).toBe(false);
    expect(significantWorsening(at(0.5, Number.POSITIVE_INFINITY), { tolerance: 0, significance: 2 })).toBe(false);
  });
});

describe('meanAndSpread', () => {
  it('gives the mean and the sample standard deviation of the finite values', () => {
    expect(meanAndSpread([1, 2, 3])).toEqual({ mean: 2, sd: 1, n: 3 });
    expect(meanAndSpread([4, Number.NaN])).toEqual({ mean: 4, sd: 0, n: 1 });
    expect(meanAndSpread([])).toBeNull();
  });
});

describe('learningMatrix', () => {
  it('orders columns by the version that learned them, rows by version, and computes gain per cell', () => {
    const matrix = learningMatrix('odoo', versions, measured);
    expect(matrix.adapter).toBe('odoo');
    // /p/z was only evaluated: last.
    expect(matrix.projects).toEqual(['/p/a', '/p/b', '/p/c', '/p/d', '/p/z']);
    expect(matrix.versions).toEqual([
      { version: 0, channel: 'base', project: null, createdAt: null },
      { version: 1, channel: 'archived', project: '/p/a', createdAt: '2026-01-01T00:00:00.000Z' },
      { version: 2, channel: 'archived', project: '/p/b', createdAt: '2026-01-02T00:00:00.000Z' },
      { version: 3, channel: 'stable', project: '/p/c', createdAt: '2026-01-03T00:00:00.000Z' },
      { version: 4, channel: 'experimental', project: '/p/d', createdAt: '2026-01-04T00:00:00.000Z' },
    ]);
    expect(matrix.nll).toEqual([
      [2.0, 4.0, 1.0, 2.5, 3.0],
      [1.5, 3.8, null, null, null],
      [1.6, 3.0, null, null, null],
      [1.7, 3.2, 0.8, null, null],
      [1.8, null, 0.9, 2.0, null],
    ]);
    // (2 − 1.5)/2 = .25, (4 − 3.8)/4 = .05, (2 − 1.6)/2 = .2, (4 − 3)/4 = .25, (2 − 1.7)/2 = .15, (4 − 3.2)/4 = .2, (1 − .8)/1 = .2, …
    expect(rounded(matrix.gain)).toEqual([
      [0, 0, 0, 0, 0],
      [0.25, 0.05, null, null, null],
      [0.2, 0.25, null, null, null],
      [0.15, 0.2, 0.2, null, null],
      [0.1, null, 0.1, 0.2, null],
    ]);
    // At the stable v3: a (learned by v1) .15 − .25 = −.10, b (v2) .2 − .25 = −.05; mean −.075. v4 and d do not count.
    expect(matrix.bwtVersion).toBe(3);
    expect(matrix.bwt).toBeCloseTo(-0.075, 12);
  });

  it('leaves missing cells out of gain and BWT', () => {
    const withoutB = measured.filter((cell) => !(cell.version === 3 && cell.project === '/p/b'));
    const matrix = learningMatrix('odoo', versions, withoutB);
    expect(matrix.nll[3]).toEqual([1.7, null, 0.8, null, null]);
    expect(matrix.gain[3]![1]).toBeNull();
    // Only a is left: −.10.
    expect(matrix.bwt).toBeCloseTo(-0.1, 12);

    const noBaseForA = measured.filter((cell) => !(cell.version === 0 && cell.project === '/p/a'));
    const withoutBase = learningMatrix('odoo', versions, noBaseForA);
    expect(withoutBase.gain.map((row) => row[0])).toEqual([null, null, null, null, null]);
    // Only b is left: −.05.
    expect(withoutBase.bwt).toBeCloseTo(-0.05, 12);

    const nothingMeasured = learningMatrix('odoo', versions, []);
    expect(nothingMeasured.projects).toEqual(['/p/a', '/p/b', '/p/c', '/p/d']);
    expect(nothingMeasured.nll).toEqual(Array.from({ length: 5 }, () => [null, null, null, null]));
    expect(nothingMeasured.bwt).toBeNull();
    expect(nothingMeasured.bwtVersion).toBe(3);
  });

  it('compares only cells measured on the held-out set of the newest measurement of their project', () => {
    const matrix = learningMatrix('odoo', versions.slice(0, 2), [
      { version: 0, project: '/p/a', nll: 2.0, heldOutHash: 'old', measuredAt: '2026-01-01T00:00:00.000Z' },
      { version: 1, project: '/p/a', nll: 1.5, heldOutHash: 'old', measuredAt: '2026-01-01T00:00:00.000Z' },
      { version: 3, project: '/p/a', nll: 1.9, heldOutHash: 'new', measuredAt: '2026-01-03T00:00:00.000Z' },
      { version: 0, project: '/p/c', nll: 1.0, heldOutHash: 'c', measuredAt: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(matrix.projects).toEqual(['/p/a', '/p/c']);
    expect(matrix.nll).toEqual([
      [null, 1.0],
      [null, null],
      [1.9, null],
    ]);
  });

  it('lists a version measured but not registered, as experimental', () => {
    const matrix = learningMatrix('odoo', [], cells(2, { '/p/a': 1.5 }));
    expect(matrix.versions).toEqual([
      { version: 0, channel: 'base', project: null, createdAt: null },
      { version: 2, channel: 'experimental', project: null, createdAt: null },
    ]);
    expect(matrix.projects).toEqual(['/p/a']);
    expect(matrix.gain).toEqual([[null], [null]]);
    expect(matrix.bwt).toBeNull();
    expect(matrix.bwtVersion).toBeNull();
  });
});

describe('backwardTransfer', () => {
  const table: Record<string, number> = { '1:a': 0.25, '2:b': 0.3, '3:a': 0.2, '3:b': 0.1, '3:c': 0.4, '2:a': 0.22 };
  const gain = (version: number, project: string) => table[`${version}:${project}`] ?? null;

  it("follows the served version's ancestors, not a sibling kept experimental", () => {
    // v2 learned b from v1 and was kept experimental; v3 learned c from v1 and was promoted.
    const result = backwardTransfer(
      [
        { version: 1, channel: 'archived', project: 'a', parentVersion: null },
        { version: 2, channel: 'experimental', project: 'b', parentVersion: 1 },
        { version: 3, channel: 'stable', project: 'c', parentVersion: 1 },
      ],
      gain,
    );
    // a only: .2 − .25.
    expect(result.version).toBe(3);
    expect(result.bwt).toBeCloseTo(-0.05, 12);
  });

  it('without parents, reads the versions as one sequence measured at the newest learning version', () => {
    const result = backwardTransfer(
      [
        { version: 1, channel: 'experimental', project: 'a' },
        { version: 2, channel: 'experimental', project: 'b' },
        { version: 3, channel: 'experimental', project: 'c' },
      ],
      gain,
    );
    // a: .2 − .25 = −.05 (v1 learned it); b: .1 − .3 = −.2; mean −.125.
    expect(result.version).toBe(3);
    expect(result.bwt).toBeCloseTo(-0.125, 12);
  });

  it("uses the latest ancestor that learned a project, and excludes the final version's own project", () => {
    const result = backwardTransfer(
      [
        { version: 1, channel: 'archived', project: 'a' },
        { version: 2, channel: 'archived', project: 'a' },
        { version: 3, channel: 'stable', project: 'b' },
      ],
      gain,
    );
    // a was last learned by v2: gain(3, a) − gain(2, a) = .2 − .22.
    expect(result.bwt).toBeCloseTo(-0.02, 12);
    const relearned = backwardTransfer(
      [
        { version: 1, channel: 'archived', project: 'a' },
        { version: 2, channel: 'stable', project: 'a' },
      ],
      gain,
    );
    expect(relearned).toEqual({ bwt: null, version: 2 });
  });
});

describe('forwardTransfer', () => {
  // gain of a version on a project before that project was learned: v1 on b 0.05, v2 on c −0.1.
  const table: Record<string, number> = { '1:b': 0.05, '2:c': -0.1, '1:c': 0.3 };
  const gain = (version: number, project: string) => table[`${version}:${project}`] ?? null;

  it("averages, along the serving version's ancestry, the gain the parent had on each project before learning it", () => {
    const versions: AdapterVersionInfo[] = [
      { version: 1, channel: 'archived', project: 'a', parentVersion: null },
      { version: 2, channel: 'archived', project: 'b', parentVersion: 1 },
      { version: 3, channel: 'stable', project: 'c', parentVersion: 2 },
    ];
    // b: gain(1, b) = .05; c: gain(2, c) = −.1; a was learned from scratch.
    expect(forwardTransfer(versions, gain)).toBeCloseTo(-0.025, 12);
  });

  it('is null with nothing measured before a project was learned, or no version at all', () => {
    expect(forwardTransfer([{ version: 1, channel: 'stable', project: 'a', parentVersion: null }], gain)).toBeNull();
    expect(forwardTransfer([], gain)).toBeNull();
  });
});

describe('shortProjectNames', () => {
  it('names a project by its folder, with parents only where two folders share a name', () => {
    const names = shortProjectNames(['/work/shop', '/home/me/erp/app', '/home/me/pos/app', 'C:\\code\\crm\\', '/']);
    expect([...names.values()]).toEqual(['shop', 'erp/app', 'pos/app', 'crm', '/']);
    expect(shortProjectNames(['/a/x/app', '/b/x/app']).get('/b/x/app')).toBe('b/x/app');
  });
});
