/** Presentation helpers for the learning dashboard, kept free of React so they are tested directly. */
import type { LearnerStatus, LearningRunRecord } from '../../shared/contract.js';

/** A signed percentage with one decimal (`+25.0%`); `–` for an unknown value. */
export function formatPercent(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const percent = (value * 100).toFixed(1);
  return `${value > 0 ? '+' : ''}${percent === '-0.0' ? '0.0' : percent}%`;
}

export function formatNll(value: number | null): string {
  return value === null ? '–' : value.toFixed(3);
}

/** The trainer's own measure when it has one; the wall clock otherwise (a failed run has no stats). */
export function runDurationMs(run: LearningRunRecord): number | null {
  const measured = run.stats?.['durationMs'];
  if (measured !== undefined) return measured;
  return run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

export function runOutcome(run: LearningRunRecord): string {
  if (run.status !== 'completed') return run.status;
  if (run.version === null) return 'no version';
  return run.promoted ? 'promoted' : 'kept experimental';
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

/** One line about the background learner, for the status strip of the dashboard. */
export function describeLearner(status: LearnerStatus, name: (project: string) => string): string {
  if (status.current) {
    const what = `learning ${name(status.current.project)}${status.current.adapter ? ` into ${status.current.adapter}` : ''}`;
    return status.state === 'paused' ? `paused: ${what}` : what;
  }
  return status.state === 'paused' ? 'paused' : 'idle';
}
