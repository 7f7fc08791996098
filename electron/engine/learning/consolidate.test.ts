/** Consolidation's pure decisions: when a new version is promoted, how many trainer threads, the project key. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PairedChange } from '../../../shared/learning-metrics.js';
import { defaults } from '../config/config.js';
import { packageRoot } from '../base/paths.js';
import { describeChange, judge, learningThreads, projectKey } from './consolidate.js';

const options = { minImprovement: 0.01, forgettingTolerance: 0.02, significance: 2 };

/** A paired change as pairedChange would report it. */
function change(before: number, after: number, standardError = 0.01, groups = 8): PairedChange {
  return { before, after, change: after - before, standardError, groups, tokens: 3072 };
}

describe('judge', () => {
  it('promotes a first version whose gain clears minImprovement plus two standard errors, and says so with the noise', () => {
    const verdict = judge('/p', { '/p': change(3, 2.9, 0.02) }, options);
    expect(verdict).toEqual({
      promote: true,
      reason: 'promoted: held-out NLL on this project 3.000 → 2.900 (-3.3 %, -0.100 ± 0.020 nats over 8 groups)',
      significant: { '/p': true },
    });
  });

  it('refuses a gain within the noise, however it compares with minImprovement alone', () => {
    // The outside check's case: a 0.3 % drop, promoted by the old 0.001-nat rule.
    const noisy = judge('/p', { '/p': change(2.461, 2.453, 0.02) }, options);
    expect(noisy.promote).toBe(false);
    expect(noisy.reason).toBe(
      'kept experimental: held-out NLL on this project did not drop by more than 0.01 nats + 2 standard errors: 2.461 → 2.453 (-0.3 %, -0.008 ± 0.020 nats over 8 groups)',
    );
    // 0.1 nats down, but 0.05 of spread: 0.1 < 0.01 + 2 × 0.05.
    expect(judge('/p', { '/p': change(3, 2.9, 0.05) }, options).promote).toBe(false);
    // The same gain, measured precisely: promoted.
    expect(judge('/p', { '/p': change(3, 2.9, 0.005) }, options).promote).toBe(true);
    expect(judge('/p', { '/p': change(3, 3.3, 0.001) }, options).reason).toMatch(/3\.000 → 3\.300 \(\+10\.0 %, \+0\.300 ± 0\.001 nats over 8 groups\)$/);
  });

  it('cannot promote without a measured spread (one group)', () => {
    const verdict = judge('/p', { '/p': change(3, 2, Number.POSITIVE_INFINITY, 1) }, options);
    expect(verdict.promote).toBe(false);
    expect(verdict.reason).toMatch(/3\.000 → 2\.000 \(-33\.3 %, -1\.000 nats, noise unknown: one group\)$/);
  });

  it('promotes when earlier projects stay within the tolerance plus noise, and says how many', () => {
    // /a: +1.5 % (under 2 %); /b: +3 %, but 0.075 < 0.05 + 2 × 0.02.
    const verdict = judge('/p', { '/p': change(3, 2.9), '/a': change(2, 2.03), '/b': change(2.5, 2.575, 0.02) }, options);
    expect(verdict.promote).toBe(true);
    expect(verdict.significant).toEqual({ '/p': true, '/a': false, '/b': false });
    expect(verdict.reason).toBe(
      'promoted: held-out NLL on this project 3.000 → 2.900 (-3.3 %, -0.100 ± 0.010 nats over 8 groups); 2 earlier projects within 2.0 % + 2 standard errors',
    );
  });

  it('refuses when an earlier project worsens beyond the tolerance and the noise, naming it and only it', () => {
    const verdict = judge('/p', { '/p': change(3, 2.5), '/forgotten': change(2, 2.1, 0.01), '/kept': change(2, 2.01) }, options);
    expect(verdict.promote).toBe(false);
    expect(verdict.reason).toBe(
      'kept experimental: it forgot earlier project beyond the 2.0 % tolerance + 2 standard errors: /forgotten 2.000 → 2.100 (+5.0 %, +0.100 ± 0.010 nats over 8 groups)',
    );
    expect(verdict.significant).toEqual({ '/p': true, '/forgotten': true, '/kept': false });

    const both = judge('/p', { '/p': change(3, 2.5), '/a': change(2, 2.5), '/b': change(1, 1.5) }, options);
    expect(both.reason).toMatch(/forgot earlier projects beyond the 2\.0 % tolerance \+ 2 standard errors: \/a 2\.000 → 2\.500 .*; \/b 1\.000 → 1\.500 /);
  });

  it('judges this project first: no gain is the reason even when earlier ones were forgotten too', () => {
    expect(judge('/p', { '/p': change(3, 3.1), '/a': change(2, 4) }, options).reason).toMatch(/did not drop/);
  });

  it('refuses without a finite NLL for this project', () => {
    for (const changes of [
      { '/p': change(3, Number.NaN) },
      { '/p': change(Number.NaN, 2) },
      { '/p': change(3, Number.POSITIVE_INFINITY) },
      {},
      { '/a': change(2, 1) },
    ]) {
      expect(judge('/p', changes, options)).toMatchObject({ promote: false, reason: 'kept experimental: no held-out NLL for /p' });
    }
  });

  it('leaves out an earlier project the new version was not measured on', () => {
    expect(judge('/p', { '/p': change(3, 2.5), '/a': change(2, Number.NaN) }, options).promote).toBe(true);
  });
});

describe('describeChange', () => {
  it('gives both NLLs, the relative and absolute change, and its standard error', () => {
    expect(describeChange(change(2.461, 2.038, 0.0314))).toBe('2.461 → 2.038 (-17.2 %, -0.423 ± 0.031 nats over 8 groups)');
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

describe('config/production.yaml', () => {
  it('documents every learning key, with a comment, at its default value', () => {
    const text = readFileSync(join(packageRoot, 'config', 'production.yaml'), 'utf8');
    const learning = (parse(text) as { learning: Record<string, unknown> }).learning;
    expect(learning).toEqual(defaults().learning);
    const section = text.slice(text.indexOf('\nlearning:'), text.indexOf('\n\n', text.indexOf('\nlearning:')));
    const lines = section.split('\n');
    for (const key of Object.keys(defaults().learning)) {
      const at = lines.findIndex((line) => line.startsWith(`  ${key}:`));
      // Its own comment, or one shared by the keys right above it.
      const above = lines.slice(0, at).reverse();
      const commented = above.findIndex((line) => line.trimStart().startsWith('#'));
      expect(commented, `${key} has no comment above it`).toBeGreaterThanOrEqual(0);
      expect(
        above.slice(0, commented).every((line) => /^ {2}\w+:/.test(line)),
        `${key}'s comment is not right above it`,
      ).toBe(true);
    }
  });
});
