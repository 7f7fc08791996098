/**
 * Whether a new modulator version may serve (modulator/README.md "Promotion"): both kinds of
 * evidence must say it is better than the stable one — the doubly robust estimate of its reward on
 * the user's logged answers, and the oracle gap on held-out examples of the learned projects. A
 * version without enough logged answers yet waits (`awaiting`) and is judged again once they exist.
 * The oracle is waived only where it cannot speak: no project learned, so no adapter mix to measure.
 */
import type { ModulatorMetrics } from '../../../shared/contract.js';
import type { ModulatorNetwork } from './network.js';
import { oracleMetrics, type OracleExample } from './offline.js';
import { drDifference, evaluatePolicy, RewardModel, type LoggedSample } from './ope.js';

export interface Verdict {
  promote: boolean;
  /** Kept only because fewer than `minLogged` answers are logged: judge it again when there are more. */
  awaiting: boolean;
  reason: string;
  before: ModulatorMetrics;
  after: ModulatorMetrics;
}

export interface JudgeOptions {
  /** Logged decisions needed before rewards count as evidence. */
  minLogged: number;
  /** Oracle gap rise (absolute) that counts as worse. */
  gapTolerance: number;
  /** Estimated reward drop that counts as worse. */
  rewardTolerance: number;
}

export function judge(
  candidate: ModulatorNetwork,
  stable: ModulatorNetwork,
  evidence: { oracle: readonly OracleExample[]; logs: readonly LoggedSample[] },
  options: JudgeOptions,
): Verdict {
  const oracleBefore = oracleMetrics(stable, evidence.oracle);
  const oracleAfter = oracleMetrics(candidate, evidence.oracle);
  const rewardModel = RewardModel.fit(evidence.logs);
  const valueBefore = evaluatePolicy(stable, evidence.logs, rewardModel);
  const valueAfter = evaluatePolicy(candidate, evidence.logs, rewardModel);
  const before: ModulatorMetrics = { ...oracleBefore, ips: valueBefore.ips, dr: valueBefore.dr, logged: valueBefore.logged };
  const after: ModulatorMetrics = { ...oracleAfter, ips: valueAfter.ips, dr: valueAfter.dr, logged: valueAfter.logged };

  const worse: string[] = [];
  const better: string[] = [];
  const unproven: string[] = [];
  if (oracleBefore.oracleGap !== null && oracleAfter.oracleGap !== null) {
    const shown = `oracle gap ${pct(oracleBefore.oracleGap)} → ${pct(oracleAfter.oracleGap)} on ${oracleAfter.examples} held-out examples`;
    if (oracleAfter.oracleGap < oracleBefore.oracleGap - 1e-4) better.push(shown);
    else if (oracleAfter.oracleGap > oracleBefore.oracleGap + options.gapTolerance) worse.push(shown);
    else unproven.push(shown);
  }
  const awaiting = valueAfter.logged < options.minLogged || valueBefore.dr === null || valueAfter.dr === null;
  if (!awaiting) {
    const difference = drDifference(valueAfter, valueBefore)!;
    const shown = `doubly robust reward ${valueBefore.dr!.toFixed(3)} → ${valueAfter.dr!.toFixed(3)} (±${difference.standardError.toFixed(3)}) on ${valueAfter.logged} logged answers (IPS ${fmt(valueBefore.ips)} → ${fmt(valueAfter.ips)})`;
    // Higher by more than one standard error of the paired difference: not a rise the logs' noise explains.
    if (difference.mean > Math.max(1e-4, difference.standardError)) better.push(shown);
    else if (valueAfter.dr! < valueBefore.dr! - options.rewardTolerance) worse.push(shown);
    else unproven.push(shown);
  }
  const verdict = (promote: boolean, waiting: boolean, reason: string): Verdict => ({ promote, awaiting: waiting, reason, before, after });
  if (worse.length) return verdict(false, false, `kept experimental: worse on ${worse.join('; ')}`);
  if (unproven.length)
    return verdict(false, false, `kept experimental: not better on ${unproven.join('; ')}${better.length ? ` (better on ${better.join('; ')})` : ''}`);
  if (awaiting) {
    const so = better.length ? `better on ${better.join('; ')}, ` : '';
    return verdict(false, true, `kept experimental: ${so}waiting for ${options.minLogged} logged answers to check it on rewards (${valueAfter.logged} so far)`);
  }
  return verdict(true, false, `promoted: better on ${better.join('; ')}`);
}

function pct(value: number): string {
  return `${(value * 100).toFixed(2)} %`;
}

function fmt(value: number | null): string {
  return value === null ? '–' : value.toFixed(3);
}
