/**
 * Training examples from real rows in PGlite: accepted answers, corrections (edits and better
 * follow-up answers), the project's code; secrets scrubbed, duplicates dropped, JSONL written whole.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaults } from '../config/config.js';
import { openDatabase, type Database } from '../db/client.js';
import { FeedbackService } from '../feedback/service.js';
import { projectId } from '../project/root.js';
import { replaceFiles, upsertProject, type IndexedFile } from '../rag/queries.js';
import { chunkSearchText } from '../rag/search-text.js';
import { tempHome, type TempHome } from '../test/support.js';
import { newInteractionId } from './ids.js';
import { insertInteraction } from './queries.js';
import { buildTrainingData, writeJsonl, type ChatExample, type CodeExample } from './training-data.js';

const root = '/projects/odoo-shop';
const stripeKey = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;
let home: TempHome;
let database: Database;
let feedback: FeedbackService;

async function interaction(question: string, answer: string, options: { project?: string; cached?: boolean } = {}): Promise<string> {
  const id = newInteractionId();
  await insertInteraction(database.db, {
    id,
    source: 'test',
    question,
    normalizedQuestion: question.toLowerCase(),
    history: [],
    project: options.project ?? root,
    cacheKey: `key-${question}`,
    answer,
    status: 'completed',
    cached: options.cached ?? false,
    model: 'test-model',
    modelFingerprint: 'test',
    adapters: [],
  });
  return id;
}

function codeFile(relativePath: string, content: string): IndexedFile {
  return {
    relativePath,
    language: 'python',
    size: content.length,
    mtimeMs: 1,
    contentHash: createHash('sha256').update(content).digest('hex'),
    chunks: [
      {
        relativePath,
        language: 'python',
        symbol: 'SaleOrder',
        kind: 'class',
        startLine: 1,
        endLine: content.split('\n').length,
        content,
        contentHash: createHash('sha256').update(content).digest('hex'),
        searchText: chunkSearchText({ relativePath, symbol: 'SaleOrder', content }),
        embedding: new Float32Array(384).fill(1 / Math.sqrt(384)),
      },
    ],
  };
}

beforeAll(async () => {
  home = tempHome();
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  feedback = new FeedbackService(database.db, defaults().feedback);
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

describe('buildTrainingData', () => {
  it('builds accepted, corrected and code examples for one project, clean and once each', async () => {
    const accepted = await interaction('How do I add a field?', 'name = fields.Char()');
    await feedback.record({ interactionId: accepted, type: 'inserted' });
    // The same answer served again from the cache and accepted again: one example, not two.
    const cachedAgain = await interaction('How do I add a field?', 'name  =  fields.Char()', { cached: true });
    await feedback.record({ interactionId: cachedAgain, type: 'copied' });
    await feedback.record({ interactionId: cachedAgain, type: 'inserted' });

    const edited = await interaction('Set the API key', `api_key = "${stripeKey}"`);
    await feedback.record({ interactionId: edited, type: 'edited', text: `api_key = "${stripeKey}"\nSTRIPE_TIMEOUT = 30` });

    const rejected = await interaction('How do I compute a total?', 'total = 0');
    const better = await interaction('How do I compute the order total with a computed field?', "@api.depends('line_ids')\ndef _compute_total(self): ...");
    await feedback.noteFollowUp({ interactionId: better, question: 'still wrong, that is not a computed field', replyTo: rejected });
    await feedback.record({ interactionId: better, type: 'inserted' });

    const ignored = await interaction('What is a wizard?', 'A transient model.');
    await feedback.record({ interactionId: ignored, type: 'ignored' });
    const elsewhere = await interaction('Other project', 'print(1)', { project: '/projects/other' });
    await feedback.record({ interactionId: elsewhere, type: 'inserted' });

    const id = projectId(root);
    await upsertProject(database.db, { id, root, embedderId: 'test' });
    await replaceFiles(database, id, [
      codeFile('models/sale.py', `class SaleOrder(models.Model):\n    _inherit = "sale.order"\n    token = "${stripeKey}"\n`),
      codeFile('models/sale_copy.py', `class SaleOrder(models.Model):\n  _inherit = "sale.order"\n  token = "${stripeKey}"\n`),
    ]);

    const data = await buildTrainingData(database.db, { project: root, acceptThreshold: 0.3 });
    const chats = data.examples.filter((example): example is ChatExample => example.kind !== 'code');
    const code = data.examples.filter((example): example is CodeExample => example.kind === 'code');

    expect(data.byKind).toEqual({ accepted: 2, correction: 2, code: 1 });
    expect(data.duplicatesDropped).toBe(2);
    expect(chats.find((example) => example.kind === 'accepted' && example.interactionId === accepted)).toMatchObject({
      messages: [{ role: 'user', content: 'How do I add a field?' }],
      completion: 'name = fields.Char()',
    });
    expect(chats.find((example) => example.correctedBy === 'edit')).toMatchObject({
      interactionId: edited,
      completion: expect.stringContaining('STRIPE_TIMEOUT = 30') as unknown,
    });
    expect(chats.find((example) => example.correctedBy === 'follow-up')).toMatchObject({
      interactionId: rejected,
      messages: [{ role: 'user', content: 'How do I compute a total?' }],
      completion: expect.stringContaining('_compute_total') as unknown,
    });
    expect(chats.some((example) => example.interactionId === ignored || example.interactionId === elsewhere)).toBe(false);
    expect(code[0]).toMatchObject({ path: 'models/sale.py', symbol: 'SaleOrder', startLine: 1 });

    const everything = JSON.stringify(data.examples);
    expect(everything).not.toContain(stripeKey);
    expect(everything).toContain('[secret removed: Stripe key]');
    expect(data.secretsScrubbed).toBeGreaterThanOrEqual(3);
  });

  it('is empty, not an error, for a project nobody asked about', async () => {
    expect(await buildTrainingData(database.db, { project: '/projects/none', acceptThreshold: 0.3 })).toEqual({
      examples: [],
      byKind: { accepted: 0, correction: 0, code: 0 },
      duplicatesDropped: 0,
      secretsScrubbed: 0,
    });
  });
});

describe('writeJsonl', () => {
  it('writes one parsable line per row and leaves no temporary file', async () => {
    const path = join(home.home, 'out.jsonl');
    await writeJsonl(path, [{ a: 1 }, { b: 'line\nbreak' }]);
    expect(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([{ a: 1 }, { b: 'line\nbreak' }]);
    expect(readdirSync(home.home).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('fails on an unwritable target without leaving a partial file', async () => {
    const path = join(home.home, 'missing-folder', 'out.jsonl');
    await expect(writeJsonl(path, [{ a: 1 }])).rejects.toThrow(/ENOENT/);
  });
});
