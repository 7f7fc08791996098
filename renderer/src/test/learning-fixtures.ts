/** Engine replies for the learning dashboard's tests, shaped exactly as the contract says. */
import type { LearnerStatus, LearningRunRecord, LearningStats } from '../../../shared/contract.js';

export function learningRun(id: string, change: Partial<LearningRunRecord> = {}): LearningRunRecord {
  return {
    id,
    adapter: 'odoo',
    project: '/work/shop',
    status: 'completed',
    startedAt: '2026-03-01T10:00:00.000Z',
    finishedAt: '2026-03-01T10:01:49.000Z',
    version: 1,
    promoted: true,
    reason: 'held-out NLL improved',
    lossCurve: [2.4, 2.1, 1.9],
    nllBefore: { '/work/shop': 2 },
    nllAfter: { '/work/shop': 1.5 },
    importanceStats: null,
    stats: { tokensPerSecond: 110.5, durationMs: 108_600 },
    error: null,
    ...change,
  };
}

/** `odoo` learned shop (v1) then crm (v2, stable); v3 learned pos and was kept experimental. */
export const learningStatsFixture: LearningStats = {
  adapters: [
    {
      adapter: 'odoo',
      projects: ['/work/shop', '/work/crm', '/work/pos'],
      versions: [
        { version: 0, channel: 'base', project: null, createdAt: null },
        { version: 1, channel: 'archived', project: '/work/shop', createdAt: '2026-03-01T10:02:00.000Z' },
        { version: 2, channel: 'stable', project: '/work/crm', createdAt: '2026-03-02T10:02:00.000Z' },
        { version: 3, channel: 'experimental', project: '/work/pos', createdAt: '2026-03-03T10:02:00.000Z' },
      ],
      nll: [
        [2.0, 4.0, 1.0],
        [1.5, 3.8, null],
        [1.6, 3.0, null],
        [1.8, 3.3, 0.8],
      ],
      gain: [
        [0, 0, 0],
        [0.25, 0.05, null],
        [0.2, 0.25, null],
        [0.1, 0.175, 0.2],
      ],
      bwt: -0.05,
      bwtVersion: 2,
      runs: [
        learningRun('run-3', {
          project: '/work/pos',
          startedAt: '2026-03-03T10:00:00.000Z',
          version: 3,
          promoted: false,
          reason: 'kept experimental: /work/crm worsened by 3%',
          lossCurve: [2.2, 1.8, 1.5, 1.4],
        }),
        learningRun('run-f', {
          project: '/work/pos',
          status: 'failed',
          version: null,
          promoted: null,
          reason: null,
          lossCurve: [2.3],
          stats: null,
          error: { name: 'LearningError', code: 'INTERNAL', message: 'The trainer stopped.', fix: 'Run it again.' },
        }),
        learningRun('run-2', { project: '/work/crm', startedAt: '2026-03-02T10:00:00.000Z', version: 2 }),
        learningRun('run-1'),
      ],
    },
  ],
};

export const idleLearner: LearnerStatus = { state: 'idle', current: null, queue: [], last: null, lastError: null };

export const runningLearner: LearnerStatus = {
  state: 'running',
  current: {
    project: '/work/hr',
    adapter: 'odoo',
    runId: 'run-4',
    progress: { task: 'learning', label: 'Training step 12 of 40', fraction: 0.3, done: false },
  },
  queue: ['/work/blog'],
  last: null,
  lastError: null,
};
