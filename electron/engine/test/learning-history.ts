/**
 * A realistic learning history for tests of the learning metrics: an `odoo` adapter that learned
 * three projects (v1..v3, v3 stable), a fourth kept experimental after a failed attempt, and a
 * `django` adapter whose only run failed. Written through the same queries the learner uses.
 */
import { insertAdapter } from '../adapters/queries.js';
import type { Db } from '../db/client.js';
import { insertTrainingRun, upsertEvaluations } from '../learning/queries.js';

export const seededProjects = { shop: '/work/shop', crm: '/work/crm', pos: '/work/pos', hr: '/work/hr' } as const;
const { shop, crm, pos, hr } = seededProjects;

export const seededAt = (day: number, hour = 10) => new Date(Date.UTC(2026, 2, day, hour));

function adapterRow(
  version: number,
  change: {
    channel: 'experimental' | 'stable' | 'archived';
    project: string | null;
    parentVersion: number | null;
    trainingRunId: string;
    reason: string;
    promotedAt: Date | null;
  },
) {
  return {
    name: 'odoo',
    version,
    scope: 'odoo',
    baseModel: 'SmolLM2-135M-Instruct.Q4_1',
    baseModelFingerprint: 'feedfacefeedface',
    path: `adapters/odoo/v${version}.gguf`,
    sha256: 'ab'.repeat(32),
    bytes: 1_234_567,
    rank: 8,
    alpha: 16,
    targets: ['blk.0.attn_q.weight'],
    metrics: {},
    ...change,
  };
}

function runRow(
  id: string,
  project: string,
  day: number,
  outcome: { status: 'completed' | 'failed'; version: number | null; promoted: boolean | null; reason: string | null; adapterName?: string },
) {
  const failed = outcome.status === 'failed';
  return {
    id,
    adapterName: outcome.adapterName ?? 'odoo',
    project,
    status: outcome.status,
    startedAt: seededAt(day),
    finishedAt: seededAt(day, 11),
    settings: { rank: 8, steps: 3 },
    lossCurve: failed ? [2.4] : [2.4, 2.1, 1.9],
    nllBefore: failed ? null : { [project]: 2 },
    nllAfter: failed ? null : { [project]: 1.7 },
    importanceStats: failed ? null : { mean: 0.01 },
    stats: failed ? null : { trainTexts: 40, replayTexts: 10, trainTokens: 12_000, tokensPerSecond: 110.5, durationMs: 108_600 },
    version: outcome.version,
    promoted: outcome.promoted,
    reason: outcome.reason,
    error: failed ? { name: 'LearningError', code: 'INTERNAL' as const, message: 'The trainer stopped.', fix: 'Run it again.' } : null,
  };
}

function evaluations(version: number, values: Record<string, number>, runId: string | null) {
  return Object.entries(values).map(([project, nll]) => ({
    adapterName: 'odoo',
    version,
    project,
    nll,
    tokens: 900,
    heldOutHash: `held-out:${project}`,
    runId,
    measuredAt: seededAt(version + 1, 12),
  }));
}

/**
 * Held-out NLL (rows v0..v4; columns shop, crm, pos, hr): base 2, 4, 1, 2.5; v1 1.5, 3.8; v2 1.6,
 * 3.0; v3 1.7, 3.2, 0.8; v4 1.8, 3.3, 0.85, 2.0. BWT at the stable v3: ((.15 − .25) + (.2 − .25)) / 2.
 */
export async function seedLearningHistory(db: Db): Promise<void> {
  await insertTrainingRun(db, runRow('run-1', shop, 1, { status: 'completed', version: 1, promoted: true, reason: 'held-out NLL improved on /work/shop' }));
  await insertTrainingRun(
    db,
    runRow('run-2', crm, 2, { status: 'completed', version: 2, promoted: true, reason: 'improved, earlier projects within tolerance' }),
  );
  await insertTrainingRun(
    db,
    runRow('run-3', pos, 3, { status: 'completed', version: 3, promoted: true, reason: 'improved, earlier projects within tolerance' }),
  );
  await insertTrainingRun(db, runRow('run-4', hr, 4, { status: 'failed', version: null, promoted: null, reason: null }));
  await insertTrainingRun(
    db,
    runRow('run-5', hr, 5, { status: 'completed', version: 4, promoted: false, reason: 'kept experimental: /work/crm worsened by 3%' }),
  );
  await insertTrainingRun(db, runRow('run-d1', '/work/blog', 6, { status: 'failed', version: null, promoted: null, reason: null, adapterName: 'django' }));

  await insertAdapter(
    db,
    adapterRow(1, { channel: 'archived', project: shop, parentVersion: null, trainingRunId: 'run-1', reason: 'replaced by v2', promotedAt: seededAt(1, 11) }),
  );
  // No project of its own: the training run's is used.
  await insertAdapter(
    db,
    adapterRow(2, { channel: 'archived', project: null, parentVersion: 1, trainingRunId: 'run-2', reason: 'replaced by v3', promotedAt: seededAt(2, 11) }),
  );
  await insertAdapter(
    db,
    adapterRow(3, { channel: 'stable', project: pos, parentVersion: 2, trainingRunId: 'run-3', reason: 'promoted', promotedAt: seededAt(3, 11) }),
  );
  await insertAdapter(
    db,
    adapterRow(4, {
      channel: 'experimental',
      project: hr,
      parentVersion: 3,
      trainingRunId: 'run-5',
      reason: 'kept experimental: /work/crm worsened by 3%',
      promotedAt: null,
    }),
  );

  await upsertEvaluations(db, [
    ...evaluations(0, { [shop]: 2.0, [crm]: 4.0, [pos]: 1.0, [hr]: 2.5 }, null),
    ...evaluations(1, { [shop]: 1.5, [crm]: 3.8 }, 'run-1'),
    ...evaluations(2, { [shop]: 1.6, [crm]: 3.0 }, 'run-2'),
    ...evaluations(3, { [shop]: 1.7, [crm]: 3.2, [pos]: 0.8 }, 'run-3'),
    ...evaluations(4, { [shop]: 1.8, [crm]: 3.3, [pos]: 0.85, [hr]: 2.0 }, 'run-5'),
  ]);
}
