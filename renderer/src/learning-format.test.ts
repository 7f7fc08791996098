import { describe, expect, it } from 'vitest';
import { formatNll, formatPercent, learnerStateKey, lossChart, nllShade, projectOutcomeKey, runDurationMs, runOutcomeKey } from './learning-format.js';
import { idleLearner, learningRun, runningLearner } from './test/learning-fixtures.js';

describe('learning formats', () => {
  it("formats percentages and NLL in the reader's language, and outcomes", () => {
    expect(formatPercent(0.25, 'en')).toBe('+25.0%');
    expect(formatPercent(-0.075, 'en')).toBe('-7.5%');
    expect(formatPercent(-0.0001, 'en')).toBe('0.0%');
    expect(formatPercent(null, 'en')).toBe('–');
    expect(formatPercent(-0.075, 'pt-BR')).toBe('-7,5%');
    expect([formatNll(0.85, 'en'), formatNll(0.85, 'pt-BR'), formatNll(null, 'pt-BR')]).toEqual(['0.850', '0,850', '–']);
    expect(runDurationMs(learningRun('a'))).toBe(108_600);
    expect(runDurationMs(learningRun('b', { stats: null }))).toBe(109_000);
    expect(runDurationMs(learningRun('c', { stats: null, finishedAt: null }))).toBeNull();
    expect(runOutcomeKey(learningRun('a'))).toBe('promoted');
    expect(runOutcomeKey(learningRun('b', { promoted: false }))).toBe('keptExperimental');
    expect(runOutcomeKey(learningRun('c', { status: 'failed' }))).toBe('failed');
    expect(runOutcomeKey(learningRun('d', { version: null }))).toBe('noVersion');
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

  it('names what the learner is doing', () => {
    expect(learnerStateKey(idleLearner)).toBe('idle');
    expect(learnerStateKey({ ...idleLearner, state: 'paused' })).toBe('pausedIdle');
    expect(learnerStateKey(runningLearner)).toBe('learningInto');
    expect(learnerStateKey({ ...runningLearner, state: 'paused' })).toBe('pausedInto');
    expect(learnerStateKey({ ...runningLearner, current: { ...runningLearner.current!, adapter: null } })).toBe('learning');
  });

  it("reads the engine's outcome of a project, and leaves wording it does not know alone", () => {
    expect(projectOutcomeKey('v3 promoted')).toEqual({ key: 'promoted', version: '3' });
    expect(projectOutcomeKey('v12 kept experimental')).toEqual({ key: 'keptExperimental', version: '12' });
    expect(projectOutcomeKey('no version')).toEqual({ key: 'noVersion', version: null });
    expect(projectOutcomeKey('failed')).toEqual({ key: 'failed', version: null });
    expect(projectOutcomeKey('v3 merged somewhere')).toBeNull();
  });
});
