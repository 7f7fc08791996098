/**
 * The replay reservoir (learning/README.md): a bounded sample of past training texts across the
 * projects an adapter learned, kept in the database, mixed into every training batch so learning
 * a new project keeps rehearsing the old ones.
 *
 * Weighted reservoir sampling (Efraimidis & Spirakis, 2006, A-Res): each text gets the key
 * u^(1/w), u uniform in (0, 1), w its weight; the reservoir keeps the `capacity` largest keys. It
 * needs no counter of what was seen, survives restarts (the keys are stored), and a text's chance
 * to stay grows with its weight — accepted answers and corrections weigh more than plain code.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/client.js';
import { insertReplayExamples, reservoirSize, sampleReplayRows, trimReservoir, type ReplayRow } from './queries.js';

export interface ReplayCandidate {
  kind: string;
  text: string;
  tokens: number;
  /** > 0; default 1. */
  weight?: number;
}

export async function addToReservoir(
  db: Db,
  options: { adapterName: string; project: string; candidates: readonly ReplayCandidate[]; capacity: number; random?: () => number },
): Promise<{ added: number; evicted: number; size: number }> {
  const random = options.random ?? Math.random;
  const rows = options.candidates
    .filter((candidate) => candidate.text.trim() !== '')
    .map((candidate) => ({
      adapterName: options.adapterName,
      project: options.project,
      kind: candidate.kind,
      text: candidate.text,
      tokens: candidate.tokens,
      contentHash: createHash('sha256').update(candidate.text).digest('hex'),
      // 1 − random() is in (0, 1]: a zero u would give every weight the same key.
      key: Math.pow(1 - random(), 1 / Math.max(candidate.weight ?? 1, 1e-6)),
    }));
  return db.transaction(async (tx) => {
    const added = await insertReplayExamples(tx, rows);
    const evicted = await trimReservoir(tx, options.adapterName, options.capacity);
    return { added, evicted, size: await reservoirSize(tx, options.adapterName) };
  });
}

export function sampleReplay(db: Db, options: { adapterName: string; excludeProject?: string; count: number; seed: number }): Promise<ReplayRow[]> {
  return sampleReplayRows(db, { adapterName: options.adapterName, excludeProject: options.excludeProject, limit: options.count, seed: options.seed });
}

/**
 * Interleaves replayed texts into the current ones so that every `batchSize` texts carry
 * round(batchSize × ratio) replayed ones (at most batchSize − 1), keeping both lists' order.
 */
export function mixReplay<T>(current: readonly T[], replay: readonly T[], options: { batchSize: number; ratio: number }): T[] {
  // At least one current text per batch, or the current project would never be learned.
  const perBatch = Math.min(options.batchSize - 1, Math.round(options.batchSize * Math.min(Math.max(options.ratio, 0), 1)));
  if (perBatch === 0 || replay.length === 0) return [...current];
  const fresh = options.batchSize - perBatch;
  const mixed: T[] = [];
  let nextCurrent = 0;
  let nextReplay = 0;
  while (nextCurrent < current.length) {
    for (let index = 0; index < fresh && nextCurrent < current.length; index++) mixed.push(current[nextCurrent++]!);
    // Replay cycles when there is less of it than the current project needs.
    for (let index = 0; index < perBatch; index++) mixed.push(replay[nextReplay++ % replay.length]!);
  }
  return mixed;
}
