import { describe, expect, it } from 'vitest';
import { describeLearner, formatPercent, lossChart, nllShade, runDurationMs, runOutcome } from './learning-format.js';
import { idleLearner, learningRun, runningLearner } from './test/learning-fixtures.js';

describe('learning formats', () => {
  it('formats percentages and outcomes', () => {
    expect(formatPercent(0.25)).toBe('+25.0%');
    expect(formatPercent(-0.075)).toBe('-7.5%');
    expect(formatPercent(-0.0001)).toBe('0.0%');
    expect(formatPercent(null)).toBe('–');
    expect(runDurationMs(learningRun('a'))).toBe(108_600);
    expect(runDurationMs(learningRun('b', { stats: null }))).toBe(109_000);
    expect(runDurationMs(learningRun('c', { stats: null, finishedAt: null }))).toBeNull();
    expect(runOutcome(learningRun('a'))).toBe('promoted');
    expect(runOutcome(learningRun('b', { promoted: false }))).toBe('kept experimental');
    expect(runOutcome(learningRun('c', { status: 'failed' }))).toBe('failed');
  });

  it('shades the lowest NLL of a column green and the highest red, nothing without a comparison', () => {
    const column = [2.0, 1.5, null, 1.75];
    expect(nllShade(1.5, column)).toBe('hsla(120, 70%, 45%, 0.28)');
    expect(nllShade(2.0, column)).toBe('hsla(0, 70%, 45%, 0.28)');
    expect(nllShade(1.75, column)).toBe('hsla(60, 70%, 45%, 0.28)');
    expect(nllShade(null, column)).toBeNull();
    expect(nllShade(2.0, [2.0, null])).toBeNull();
    expect(nllShade(2.0, [2.0, 2.0])).toBeNull();
  });

  it('draws the latest runs on one scale, oldest first, skipping curves of one point', () => {
    const runs = [
      learningRun('new', { lossCurve: [3, 1] }),
      learningRun('failed', { lossCurve: [2] }),
      learningRun('old', { lossCurve: [3, 2, 1] }),
      learningRun('older', { lossCurve: [9, 9] }),
    ];
    const chart = lossChart(runs, { width: 100, height: 50, margin: 10, count: 3, label: (run) => run.id });
    expect(chart).toMatchObject({ top: 3, bottom: 1, steps: 3 });
    expect(chart.lines.map((line) => [line.runId, line.points])).toEqual([
      ['old', '10,10 50,25 90,40'],
      ['new', '10,10 50,40'],
    ]);
    expect(chart.lines[0]!.color).not.toBe(chart.lines[1]!.color);
    expect(
      lossChart([learningRun('flat', { lossCurve: [2, 2] })], { width: 100, height: 50, margin: 10, count: 5, label: (run) => run.id }).lines[0]!.points,
    ).toBe('10,25 90,25');
    expect(lossChart([], { width: 100, height: 50, margin: 10, count: 5, label: (run) => run.id }).lines).toEqual([]);
  });

  it('describes the learner in one line', () => {
    const name = (project: string) => project.split('/').at(-1)!;
    expect(describeLearner(idleLearner, name)).toBe('idle');
    expect(describeLearner(runningLearner, name)).toBe('learning hr into odoo');
    expect(describeLearner({ ...runningLearner, state: 'paused' }, name)).toBe('paused: learning hr into odoo');
  });
});
