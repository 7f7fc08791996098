/**
 * Whether a new modulator version may serve: it must be better than the stable one on some
 * evidence — the held-out oracle gap, or the doubly robust estimate of its reward on logged
 * interactions — and worse on none (modulator/README.md "Promotion").
 */
import type { ModulatorMetrics } from '../../../shared/contract.js';
import type { ModulatorNetwork } from './network.js';
import { oracleMetrics, type OracleExample } from './offline.js';
import { evaluatePolicy, RewardModel, type LoggedSample } from './ope.js';

export interface Verdict {
  promote: boolean;
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

  const better: string[] = [];
  const worse: string[] = [];
  if (oracleBefore.oracleGap !== null && oracleAfter.oracleGap !== null) {
    const shown = `oracle gap ${pct(oracleBefore.oracleGap)} → ${pct(oracleAfter.oracleGap)} on ${oracleAfter.examples} held-out examples`;
    if (oracleAfter.oracleGap < oracleBefore.oracleGap - 1e-4) better.push(shown);
    else if (oracleAfter.oracleGap > oracleBefore.oracleGap + options.gapTolerance) worse.push(shown);
  }
  if (valueAfter.logged >= options.minLogged && valueBefore.dr !== null && valueAfter.dr !== null) {
    const shown = `doubly robust reward ${valueBefore.dr.toFixed(3)} → ${valueAfter.dr.toFixed(3)} on ${valueAfter.logged} logged answers (IPS ${fmt(valueBefore.ips)} → ${fmt(valueAfter.ips)})`;
    if (valueAfter.dr > valueBefore.dr + 1e-4) better.push(shown);
    else if (valueAfter.dr < valueBefore.dr - options.rewardTolerance) worse.push(shown);
  }
  if (worse.length) return { promote: false, reason: `kept experimental: worse on ${worse.join('; ')}`, before, after };
  if (better.length) return { promote: true, reason: `promoted: better on ${better.join('; ')}`, before, after };
  const missing = evidence.logs.length < options.minLogged ? ` (rewards count from ${options.minLogged} logged answers; ${evidence.logs.length} so far)` : '';
  return { promote: false, reason: `kept experimental: not better than the stable version on any evidence${missing}`, before, after };
}

function pct(value: number): string {
  return `${(value * 100).toFixed(2)} %`;
}

function fmt(value: number | null): string {
  return value === null ? '–' : value.toFixed(3);
}
