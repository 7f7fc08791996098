/**
 * Training examples for one project (data-collection/README.md): answers the user accepted, better
 * targets where the user corrected an answer, and the project's own code for next-token learning.
 * Every text is scrubbed of secrets, and examples with the same content are kept once.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ChatMessage, DataExport } from '../../../shared/contract.js';
import type { Db } from '../db/client.js';
import { writeFileAtomic } from '../base/files.js';
import { dataLayout } from '../project/layout.js';
import { scrubSecrets } from '../secrets/secrets.js';
import { acceptedAnswers, editedCorrections, followUpCorrections, projectCode } from './queries.js';

interface ExampleBase {
  project: string;
  /** sha256 of the content; the key duplicates share. */
  hash: string;
}

/** A chat turn and the answer worth learning: accepted as given, or the user's better version. */
export interface ChatExample extends ExampleBase {
  kind: 'accepted' | 'correction';
  interactionId: string;
  messages: ChatMessage[];
  completion: string;
  /** The reward that made it a target (for a correction: of the better answer, 1 for a user's own edit). */
  reward: number;
  /** For corrections: where the better target came from. */
  correctedBy?: 'edit' | 'follow-up';
}

/** Project code as plain text, for self-supervised next-token learning. */
export interface CodeExample extends ExampleBase {
  kind: 'code';
  path: string;
  language: string;
  symbol: string | null;
  startLine: number;
  endLine: number;
  text: string;
}

export type TrainingExample = ChatExample | CodeExample;

export interface TrainingData {
  examples: TrainingExample[];
  byKind: Record<TrainingExample['kind'], number>;
  duplicatesDropped: number;
  secretsScrubbed: number;
}

export async function buildTrainingData(db: Db, options: { project: string; acceptThreshold: number }): Promise<TrainingData> {
  const { project, acceptThreshold } = options;
  const [accepted, edits, followUps, code] = await Promise.all([
    acceptedAnswers(db, project, acceptThreshold),
    editedCorrections(db, project),
    followUpCorrections(db, project, acceptThreshold),
    projectCode(db, project),
  ]);

  let secretsScrubbed = 0;
  const scrub = (text: string) => {
    const result = scrubSecrets(text);
    secretsScrubbed += result.removed;
    return result.text;
  };
  const chat = (
    kind: ChatExample['kind'],
    row: { interactionId: string; history: ChatMessage[]; question: string; completion: string; reward: number },
    correctedBy?: ChatExample['correctedBy'],
  ): ChatExample => {
    const messages = [...row.history, { role: 'user' as const, content: row.question }].map((message) => ({
      role: message.role,
      content: scrub(message.content),
    }));
    const completion = scrub(row.completion);
    return {
      kind,
      project,
      interactionId: row.interactionId,
      messages,
      completion,
      reward: row.reward,
      ...(correctedBy ? { correctedBy } : {}),
      hash: contentHash([...messages.map((message) => `${message.role}:${message.content}`), `assistant:${completion}`]),
    };
  };

  const editedIds = new Set(edits.map((edit) => edit.interactionId));
  const candidates: TrainingExample[] = [
    // A correction says what the answer should have been, so it wins over the same answer accepted.
    ...edits.map((row) => chat('correction', { ...row, reward: 1 }, 'edit')),
    ...followUps.map((row) => chat('correction', row, 'follow-up')),
    // The user's edit replaces the answer they started from: learning both would teach the worse one too.
    ...accepted.filter((row) => !editedIds.has(row.interactionId)).map((row) => chat('accepted', row)),
    ...code.map((row): CodeExample => {
      const text = scrub(row.content);
      return {
        kind: 'code',
        project,
        path: row.path,
        language: row.language,
        symbol: row.symbol,
        startLine: row.startLine,
        endLine: row.endLine,
        text,
        hash: contentHash([text]),
      };
    }),
  ];
  const seen = new Set<string>();
  const examples = candidates.filter((example) => {
    // Whitespace-only differences are the same example: a cached answer and its original, a
    // chunk copied between two files with other indentation.
    if (seen.has(example.hash)) return false;
    seen.add(example.hash);
    return true;
  });
  const byKind = { accepted: 0, correction: 0, code: 0 };
  for (const example of examples) byKind[example.kind]++;
  return { examples, byKind, duplicatesDropped: candidates.length - examples.length, secretsScrubbed };
}

/**
 * `npllm data export`, `data/export`: the project's examples as JSONL at `out`, or in the data
 * folder's exports/ under the project's name and the time.
 */
export async function exportTrainingData(
  db: Db,
  options: { project: string; acceptThreshold: number; home: string; out?: string | undefined },
): Promise<DataExport> {
  const data = await buildTrainingData(db, { project: options.project, acceptThreshold: options.acceptThreshold });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = options.out ? resolve(options.out) : join(dataLayout.exports(options.home), `${basename(options.project) || 'project'}-${stamp}.jsonl`);
  await mkdir(dirname(path), { recursive: true });
  await writeJsonl(path, data.examples);
  return { path, examples: data.examples.length, byKind: data.byKind, duplicatesDropped: data.duplicatesDropped, secretsScrubbed: data.secretsScrubbed };
}

/** JSONL, one example per line, into an existing folder; atomic, so a crash never leaves half a file. */
export async function writeJsonl(path: string, rows: readonly unknown[]): Promise<{ sha256: string; bytes: number }> {
  return writeFileAtomic(
    path,
    (function* () {
      for (const row of rows) yield Buffer.from(`${JSON.stringify(row)}\n`);
    })(),
  );
}

function contentHash(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part.replace(/\s+/g, ' ').trim()).update('\u0000');
  return hash.digest('hex');
}
