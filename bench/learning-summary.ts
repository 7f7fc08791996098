/** What bench:learning measures per seed, and its summary over seeds (mean ± spread). */
import type { AdapterLearningStats, LearningTest, LearnResult } from '../shared/contract.js';
import { meanAndSpread, relativeGain } from '../shared/learning-metrics.js';
import type { HeldOutFunction } from './learning-completion.js';
import type { Projects } from './learning-corpora.js';
import { round } from './measure.js';
export const settingNames = ['mas-replay', 'mas', 'naive'] as const;
export type Setting = (typeof settingNames)[number];
export const settingLabels: Record<Setting, string> = { 'mas-replay': 'MAS + replay', mas: 'MAS only', naive: 'naive' };

export interface Learned {
  result: LearnResult;
  trainerRssMb: number;
  seconds: number;
  stats: AdapterLearningStats;
}

export interface CompletionSummary {
  editSimilarity: number;
  exactMatch: number;
  n: number;
}

export interface SeedResult {
  seed: number;
  model: string;
  steps: number;
  heldOutWindows: number;
  a: Learned;
  b: Partial<Record<Setting, Learned>>;
  control: Learned;
  completion: { afterA: CompletionSummary | null; afterB: Partial<Record<Setting, CompletionSummary>> };
  /** The held-out functions completed (the same in every seed). */
  functions: HeldOutFunction[];
}

/** Relative change of held-out NLL against the base, from a test: (after − before) / before; negative is better. */
export const relative = (test: LearningTest | undefined) => (test ? test.change / test.before : Number.NaN);
export const gainOver = (base: number, nll: number | undefined) => relativeGain(base, nll) ?? Number.NaN;

export interface Metrics {
  gainA: number[];
  gainASe: number[];
  controlGainA: number[];
  controlGainB: number[];
  transferB: number[];
  transferBSe: number[];
  transferBWorse: number[];
  aSeconds: number[];
  tokensPerSecond: number[];
  trainerRssMb: number[];
  perSetting: Record<
    Setting,
    {
      gainAAfterB: number[];
      nllAVsBase: number[];
      bwt: number[];
      gainB: number[];
      promoted: number[];
      seconds: number[];
      es: number[];
      em: number[];
      forgotten: number[];
    }
  >;
  completionAfterA: { es: number[]; em: number[] };
}

export function collect(results: readonly SeedResult[], projects: Projects, settings: readonly Setting[]): Metrics {
  const empty = () => ({ gainAAfterB: [], nllAVsBase: [], bwt: [], gainB: [], promoted: [], seconds: [], es: [], em: [], forgotten: [] });
  const metrics: Metrics = {
    gainA: [],
    gainASe: [],
    controlGainA: [],
    controlGainB: [],
    transferB: [],
    transferBSe: [],
    transferBWorse: [],
    aSeconds: [],
    tokensPerSecond: [],
    trainerRssMb: [],
    perSetting: { 'mas-replay': empty(), mas: empty(), naive: empty() },
    completionAfterA: { es: [], em: [] },
  };
  for (const seed of results) {
    const ownA = seed.a.result.tests![projects.a]!;
    const baseA = ownA.before;
    const gainA = gainOver(baseA, ownA.after);
    metrics.gainA.push(gainA);
    metrics.gainASe.push(ownA.standardError / baseA);
    metrics.controlGainA.push(-relative(seed.control.result.transfer?.[projects.a]));
    metrics.controlGainB.push(-relative(seed.control.result.transfer?.[projects.b]));
    const transferB = seed.a.result.transfer?.[projects.b];
    metrics.transferB.push(-relative(transferB));
    metrics.transferBSe.push(transferB ? transferB.standardError / transferB.before : Number.NaN);
    metrics.transferBWorse.push(transferB?.significant ? 1 : 0);
    metrics.aSeconds.push(seed.a.seconds);
    metrics.tokensPerSecond.push(seed.a.result.stats.tokensPerSecond, ...Object.values(seed.b).map((learned) => learned.result.stats.tokensPerSecond));
    metrics.trainerRssMb.push(Math.max(seed.a.trainerRssMb, seed.control.trainerRssMb, ...Object.values(seed.b).map((learned) => learned.trainerRssMb)));
    if (seed.completion.afterA) {
      metrics.completionAfterA.es.push(seed.completion.afterA.editSimilarity);
      metrics.completionAfterA.em.push(seed.completion.afterA.exactMatch);
    }
    const baseB = transferB?.before ?? Number.NaN;
    for (const setting of settings) {
      const learned = seed.b[setting];
      if (!learned) continue;
      const tests = learned.result.tests!;
      const row = metrics.perSetting[setting];
      const gainAAfterB = gainOver(baseA, tests[projects.a]?.after);
      row.gainAAfterB.push(gainAAfterB);
      row.nllAVsBase.push((tests[projects.a]?.after ?? Number.NaN) / baseA - 1);
      row.bwt.push(gainAAfterB - gainA);
      row.gainB.push(gainOver(baseB, tests[projects.b]?.after));
      row.promoted.push(learned.result.promoted ? 1 : 0);
      row.forgotten.push(tests[projects.a]?.significant ? 1 : 0);
      row.seconds.push(learned.seconds);
      const completion = seed.completion.afterB[setting];
      if (completion) {
        row.es.push(completion.editSimilarity);
        row.em.push(completion.exactMatch);
      }
    }
  }
  return metrics;
}

/** `0.123 ± 0.010`: mean ± sample standard deviation over seeds. */
export function pm(values: readonly number[], digits = 3): string {
  const stats = meanAndSpread(values);
  return stats ? `${stats.mean.toFixed(digits)} ± ${stats.sd.toFixed(digits)}` : '–';
}

export function spread(values: readonly number[]): { mean: number; sd: number; n: number } | null {
  const stats = meanAndSpread(values);
  return stats ? { mean: round(stats.mean, 4), sd: round(stats.sd, 4), n: stats.n } : null;
}

/** Per-step losses are of different windows: a trailing mean shows the trend. */
export function smooth(values: readonly number[], window: number): number[] {
  return values.map((_, index) => {
    const slice = values.slice(Math.max(0, index - window + 1), index + 1);
    return slice.reduce((sum, value) => sum + value, 0) / slice.length;
  });
}

export function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const length = Math.min(...curves.map((curve) => curve.length));
  return Array.from({ length }, (_, index) => curves.reduce((sum, curve) => sum + curve[index]!, 0) / curves.length);
}

export function projectLabel(project: string, projects: Projects): string {
  return project === projects.a ? 'A Odoo' : project === projects.b ? 'B ESLint' : project === projects.c ? 'C asyncio' : project;
}
