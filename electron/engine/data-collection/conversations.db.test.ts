/**
 * Conversations and the project list against a real PGlite: a conversation exists from its first
 * question, is titled by it, reopens oldest first, is renamed, and deleted without losing the
 * interactions; the project list gathers confirmed, indexed, asked-about and learned folders.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearnerStatus } from '../../../shared/contract.js';
import { insertProfile } from '../context/queries.js';
import { openDatabase, type Database } from '../db/client.js';
import { projectSummaries } from '../metrics/projects.js';
import { seedLearningHistory, seededProjects } from '../test/learning-history.js';
import { tempHome, type TempHome } from '../test/support.js';
import { newInteractionId } from './ids.js';
import { deleteConversation, findConversation, findInteraction, insertInteraction, listConversations, renameConversation } from './queries.js';

let home: TempHome;
let database: Database;

async function ask(question: string, options: { conversationId?: string; project?: string | null; at?: Date } = {}): Promise<string> {
  const id = newInteractionId();
  await insertInteraction(database.db, {
    id,
    createdAt: options.at ?? new Date(),
    source: 'desktop',
    question,
    normalizedQuestion: question.toLowerCase(),
    history: [],
    project: options.project ?? null,
    conversationId: options.conversationId ?? null,
    cacheKey: `key-${id}`,
    answer: `answer to ${question}`,
    status: 'completed',
    cached: false,
    model: 'test-model',
    modelFingerprint: 'test',
    adapters: [],
  });
  return id;
}

beforeAll(async () => {
  home = tempHome('npllm-conversations-');
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
});

afterAll(async () => {
  await database?.close();
  home?.cleanup();
});

describe('conversations', () => {
  const shop = '/work/shop-conversations';

  it('starts with its first question, titled by it, and counts the questions that follow', async () => {
    await ask('How is the refund computed?\nIt looks wrong for damaged orders.', {
      conversationId: 'conv-refunds',
      project: shop,
      at: new Date('2026-03-01T10:00:00Z'),
    });
    await ask('And for a partial return?', { conversationId: 'conv-refunds', project: shop, at: new Date('2026-03-01T10:05:00Z') });
    const [conversation] = await listConversations(database.db, { project: shop, limit: 10 });
    expect(conversation).toMatchObject({
      id: 'conv-refunds',
      title: 'How is the refund computed?',
      project: shop,
      questions: 2,
      createdAt: '2026-03-01T10:00:00.000Z',
      updatedAt: '2026-03-01T10:05:00.000Z',
    });
  });

  it('a long first question is shortened for the title', async () => {
    await ask(`Explain ${'very '.repeat(40)}slowly`, { conversationId: 'conv-long', project: shop });
    const found = await findConversation(database.db, 'conv-long');
    expect(found?.conversation.title).toHaveLength(80);
    expect(found?.conversation.title.endsWith('…')).toBe(true);
  });

  it('lists by project, without a project, or all, the latest first', async () => {
    await ask('What is a closure?', { conversationId: 'conv-general' });
    await ask('not in any conversation', { project: shop });
    expect((await listConversations(database.db, { project: shop, limit: 10 })).map((each) => each.id)).toEqual(['conv-long', 'conv-refunds']);
    expect((await listConversations(database.db, { project: null, limit: 10 })).map((each) => each.id)).toEqual(['conv-general']);
    expect((await listConversations(database.db, { limit: 10 })).map((each) => each.id)).toEqual(['conv-general', 'conv-long', 'conv-refunds']);
  });

  it('reopens with its questions and answers, oldest first', async () => {
    const found = await findConversation(database.db, 'conv-refunds');
    expect(found?.interactions.map((each) => each.question)).toEqual([
      'How is the refund computed?\nIt looks wrong for damaged orders.',
      'And for a partial return?',
    ]);
    expect(found?.interactions.every((each) => each.conversationId === 'conv-refunds' && each.answer?.startsWith('answer to'))).toBe(true);
    expect(await findConversation(database.db, 'conv-missing')).toBeNull();
  });

  it('is renamed', async () => {
    expect(await renameConversation(database.db, 'conv-refunds', 'Refund rules')).toMatchObject({ id: 'conv-refunds', title: 'Refund rules', questions: 2 });
    expect(await renameConversation(database.db, 'conv-missing', 'x')).toBeNull();
  });

  it('is deleted from the list while its interactions stay, ungrouped', async () => {
    const ids = (await findConversation(database.db, 'conv-general'))!.interactions.map((each) => each.id);
    expect(await deleteConversation(database.db, 'conv-general')).toBe(true);
    expect(await deleteConversation(database.db, 'conv-general')).toBe(false);
    expect(await findConversation(database.db, 'conv-general')).toBeNull();
    const kept = await findInteraction(database.db, ids[0]!);
    expect(kept).toMatchObject({ question: 'What is a closure?', conversationId: null });
  });
});

describe('the project list', () => {
  const idle: LearnerStatus = { state: 'idle', current: null, queue: [], last: null, lastError: null };

  it('gathers confirmed, asked-about and learned folders with their stacks and learning state', async () => {
    await seedLearningHistory(database.db);
    const { shop, crm } = seededProjects;
    await insertProfile(database.db, {
      root: shop,
      stacks: [{ name: 'odoo', version: '17.0', confidence: 0.97, evidence: ['__manifest__.py'] }],
      proposal: [],
      edited: false,
      contextVector: [],
    });
    await ask('Where is the invoice posted?', { project: shop });

    const learning: LearnerStatus = {
      ...idle,
      state: 'running',
      current: { project: crm, adapter: 'odoo', runId: 'run-x', progress: { task: 'learning', label: 'step 3/10', fraction: 0.3, done: false } },
    };
    const items = await projectSummaries(database.db, learning);
    const byRoot = new Map(items.map((item) => [item.root, item]));
    expect(byRoot.get(shop)).toMatchObject({
      name: 'shop',
      confirmed: true,
      stacks: [{ name: 'odoo', version: '17.0' }],
      questions: 1,
      learning: { state: 'learned', lastOutcome: 'v1 promoted' },
    });
    expect(byRoot.get(crm)).toMatchObject({ confirmed: false, stacks: [], learning: { state: 'running', progress: { label: 'step 3/10' } } });
    expect(byRoot.get('/work/shop-conversations')).toMatchObject({ confirmed: false, questions: 4, learning: { state: 'never', lastRunAt: null } });
    // The latest used first: the shop's question was asked just now.
    expect(items[0]!.root).toBe(shop);
  });

  it('a queued project says so', async () => {
    const items = await projectSummaries(database.db, { ...idle, queue: [seededProjects.pos] });
    expect(items.find((item) => item.root === seededProjects.pos)?.learning.state).toBe('queued');
  });
});
