import { basename } from 'node:path';
import type { LearnerStatus, ProjectSummary } from '../../../shared/contract.js';
import type { Db } from '../db/client.js';
import { projectOverview, type ProjectOverview } from './queries.js';

/** The project sidebar: every known project, its stacks, index and learning state, the latest used first. */
export async function projectSummaries(db: Db, learner: LearnerStatus): Promise<ProjectSummary[]> {
  const rows = await projectOverview(db);
  return rows.map((row) => summary(row, learner)).sort((a, b) => (b.lastUsedAt ?? '').localeCompare(a.lastUsedAt ?? '') || a.root.localeCompare(b.root));
}

function summary(row: ProjectOverview, learner: LearnerStatus): ProjectSummary {
  const running = learner.current?.project === row.root;
  const queued = learner.queue.includes(row.root);
  return {
    root: row.root,
    name: basename(row.root) || row.root,
    stacks: row.stacks ?? [],
    confirmed: row.stacks !== null,
    index: { files: row.files, chunks: row.chunks, lastIndexedAt: row.lastIndexedAt?.toISOString() ?? null },
    learning: {
      state: running ? 'running' : queued ? 'queued' : row.lastRun ? 'learned' : 'never',
      lastRunAt: row.lastRun?.at.toISOString() ?? null,
      lastOutcome: row.lastRun ? outcome(row.lastRun) : null,
      progress: running ? (learner.current?.progress ?? null) : null,
    },
    questions: row.questions,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

function outcome(run: NonNullable<ProjectOverview['lastRun']>): string {
  if (run.status !== 'completed') return run.status;
  if (run.version === null) return 'no version';
  return run.promoted ? `v${run.version} promoted` : `v${run.version} kept experimental`;
}
