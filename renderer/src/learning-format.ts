/** Presentation helpers for the learning dashboard, kept free of React so they are tested directly. */
import type { LearnerStatus, LearningRunRecord } from '../../shared/contract.js';
import { formatChange, formatFixed } from './locale-format.js';

/** A signed percentage with one decimal in the reader's language (`+25.0%`, pt-BR `+25,0%`); `–` for an unknown value. */
export function formatPercent(value: number | null, language: string): string {
  return value === null || !Number.isFinite(value) ? '–' : formatChange(value, language);
}

export function formatNll(value: number | null, language: string): string {
  return value === null ? '–' : formatFixed(value, language, 3);
}

/** The trainer's own measure when it has one; the wall clock otherwise (a failed run has no stats). */
export function runDurationMs(run: LearningRunRecord): number | null {
  const measured = run.stats?.['durationMs'];
  if (measured !== undefined) return measured;
  return run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

/** How a run ended, as a key of `learning.outcome`. */
export function runOutcomeKey(run: LearningRunRecord): string {
  if (run.status !== 'completed') return run.status;
  if (run.version === null) return 'noVersion';
  return run.promoted ? 'promoted' : 'keptExperimental';
}

const engineOutcomes = new Map([
  ['promoted', 'promoted'],
  ['kept experimental', 'keptExperimental'],
  ['no version', 'noVersion'],
  ['running', 'running'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
]);

/**
 * A project's latest outcome comes from the engine as English text (`v3 promoted`, `v3 kept
 * experimental`, `no version`, a run's status): its key of `learning.outcome` and the version it
 * names, or null for wording this app does not know (shown as the engine wrote it).
 */
export function projectOutcomeKey(outcome: string): { key: string; version: string | null } | null {
  const match = /^(?:v(\d+) )?(.+)$/.exec(outcome);
  const key = match ? engineOutcomes.get(match[2]!) : undefined;
  return key ? { key, version: match![1] ?? null } : null;
}

/**
 * A cell's background in the forgetting matrix: green for the lowest NLL of its column, red for
 * the highest, translucent so text stays readable in light and dark themes. null when there is
 * nothing to compare with (unknown value, or one value in the column).
 */
export function nllShade(value: number | null, column: readonly (number | null)[]): string | null {
  if (value === null) return null;
  const known = column.filter((each): each is number => each !== null && Number.isFinite(each));
  const low = Math.min(...known);
  const high = Math.max(...known);
  if (known.length < 2 || high === low) return null;
  const hue = Math.round(120 * (1 - (value - low) / (high - low)));
  return `hsla(${hue}, 70%, 45%, 0.28)`;
}

export interface LossLine {
  runId: string;
  label: string;
  color: string;
  /** SVG polyline points, in chart coordinates. */
  points: string;
}

export interface LossChart {
  width: number;
  height: number;
  lines: LossLine[];
  /** Loss at the top and bottom of the plot, and the longest curve's steps. */
  top: number;
  bottom: number;
  steps: number;
}

const lineColors = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];

/**
 * Loss curves of the latest `count` runs (runs come newest first) on one shared scale, oldest
 * first so the newest is drawn on top. Runs with fewer than two finite points draw nothing.
 */
export function lossChart(
  runs: readonly LearningRunRecord[],
  options: { width: number; height: number; margin: number; count: number; label: (run: LearningRunRecord) => string },
): LossChart {
  const { width, height, margin } = options;
  const curves = runs
    .slice(0, options.count)
    .reverse()
    .map((run) => ({ run, losses: run.lossCurve.filter((loss) => Number.isFinite(loss)) }))
    .filter((curve) => curve.losses.length >= 2);
  const all = curves.flatMap((curve) => curve.losses);
  const steps = Math.max(0, ...curves.map((curve) => curve.losses.length));
  if (curves.length === 0) return { width, height, lines: [], top: 0, bottom: 0, steps: 0 };
  let top = Math.max(...all);
  let bottom = Math.min(...all);
  // A flat curve still needs a scale.
  if (top === bottom) {
    top += 0.5;
    bottom -= 0.5;
  }
  const x = (step: number) => margin + (step / Math.max(1, steps - 1)) * (width - 2 * margin);
  const y = (loss: number) => margin + ((top - loss) / (top - bottom)) * (height - 2 * margin);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    width,
    height,
    top,
    bottom,
    steps,
    lines: curves.map((curve, index) => ({
      runId: curve.run.id,
      label: options.label(curve.run),
      color: lineColors[index % lineColors.length]!,
      points: curve.losses.map((loss, step) => `${round(x(step))},${round(y(loss))}`).join(' '),
    })),
  };
}

/** What the background learner is doing, as a key of `learning.state`. */
export function learnerStateKey(status: LearnerStatus): string {
  if (status.current) {
    const into = status.current.adapter ? 'Into' : '';
    return status.state === 'paused' ? `paused${into}` : `learning${into}`;
  }
  return status.state === 'paused' ? 'pausedIdle' : 'idle';
}
