/** The judge of a consolidation (learning/README.md, "Judge"): pure decisions on paired held-out changes. */
import type { LearningTest } from '../../../shared/contract.js';
import { significantGain, significantWorsening, type PairedChange } from '../../../shared/learning-metrics.js';
import type { LearningConfig } from './config.js';

export function learningTest(change: PairedChange, significant: boolean): LearningTest {
  return { ...change, significant };
}

/**
 * The judge (learning/README.md, "Judge"): promote only if this project's held-out NLL dropped by
 * more than `minImprovement` plus `significance` standard errors of the paired change, and no
 * earlier project's rose by more than `forgettingTolerance` of its value plus as many standard
 * errors. The standard errors come from the groups of whole held-out files (`pairedChange`).
 */
export function judge(
  project: string,
  changes: Record<string, PairedChange>,
  options: Pick<LearningConfig, 'minImprovement' | 'forgettingTolerance' | 'significance'>,
): { promote: boolean; reason: string; significant: Record<string, boolean> } {
  const own = changes[project];
  const significant: Record<string, boolean> = {};
  if (!own || !Number.isFinite(own.before) || !Number.isFinite(own.after))
    return { promote: false, reason: `kept experimental: no held-out NLL for ${project}`, significant };
  significant[project] = significantGain(own, { minImprovement: options.minImprovement, significance: options.significance });
  const worse = Object.keys(changes)
    .filter((target) => target !== project && Number.isFinite(changes[target]!.after))
    .filter(
      (target) =>
        (significant[target] = significantWorsening(changes[target]!, { tolerance: options.forgettingTolerance, significance: options.significance })),
    );
  const z = `${options.significance} standard error${options.significance === 1 ? '' : 's'}`;
  if (!significant[project]) {
    return {
      promote: false,
      reason: `kept experimental: held-out NLL on this project did not drop by more than ${options.minImprovement} nats + ${z}: ${describeChange(own)}`,
      significant,
    };
  }
  if (worse.length > 0) {
    return {
      promote: false,
      reason: `kept experimental: it forgot earlier project${worse.length > 1 ? 's' : ''} beyond the ${(options.forgettingTolerance * 100).toFixed(1)} % tolerance + ${z}: ${worse.map((target) => `${target} ${describeChange(changes[target]!)}`).join('; ')}`,
      significant,
    };
  }
  const kept = Object.keys(changes).length - 1;
  return {
    promote: true,
    reason: `promoted: held-out NLL on this project ${describeChange(own)}${kept ? `; ${kept} earlier project${kept > 1 ? 's' : ''} within ${(options.forgettingTolerance * 100).toFixed(1)} % + ${z}` : ''}`,
    significant,
  };
}

/** `2.461 → 2.038 (-17.2 %, -0.423 ± 0.031 nats over 8 groups)`. */
export function describeChange(change: PairedChange): string {
  const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
  const noise = Number.isFinite(change.standardError)
    ? `± ${change.standardError.toFixed(3)} nats over ${change.groups} groups`
    : 'nats, noise unknown: one group';
  return `${change.before.toFixed(3)} → ${change.after.toFixed(3)} (${signed(((change.after - change.before) / change.before) * 100, 1)} %, ${signed(change.change, 3)} ${noise})`;
}
