/**
 * Feedback end to end on a real PGlite: events are stored before they are acknowledged, retries
 * are harmless, order does not matter, follow-up messages become emotional signals, and the reward
 * and the behaviour metrics follow.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackRequest } from '../../../shared/contract.js';
import { defaults } from '../config/config.js';
import { openDatabase, type Database } from '../db/client.js';
import { newInteractionId } from '../data-collection/ids.js';
import { insertInteraction } from '../data-collection/queries.js';
import { behaviourStats } from '../metrics/behaviour.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import { eventsOf } from './queries.js';
import { FeedbackService } from './service.js';

let home: TempHome;
let database: Database;
let feedback: FeedbackService;
const config = defaults().feedback;

async function interaction(
  options: { answer?: string; source?: string; project?: string | null; question?: string; createdAt?: Date; conversationId?: string; clientId?: string } = {},
): Promise<string> {
  const id = newInteractionId();
  const createdAt = options.createdAt ?? new Date();
  await insertInteraction(database.db, {
    id,
    createdAt,
    finishedAt: createdAt,
    source: options.source ?? 'test',
    conversationId: options.conversationId ?? null,
    clientId: options.clientId ?? null,
    question: options.question ?? 'How do I create an Odoo model?',
    normalizedQuestion: 'how do i create an odoo model?',
    history: [],
    project: options.project ?? null,
    cacheKey: `key-${id}`,
    answer: options.answer ?? 'class Partner(models.Model):\n    _name = "x.partner"\n',
    status: 'completed',
    cached: false,
    model: 'test-model',
    modelFingerprint: 'test',
    adapters: [],
    timings: { ttftMs: 100, totalMs: 900, tokens: 20, promptTokens: 30, loadMs: 0 },
    retrieval: { used: false, reasons: [], sources: [] },
  });
  return id;
}

beforeAll(async () => {
  home = tempHome();
  database = await openDatabase({ url: null, dir: join(home.home, 'db') });
  feedback = new FeedbackService(database.db, config);
});

afterAll(async () => {
  await database.close();
  home.cleanup();
});

describe('FeedbackService.record', () => {
  it('stores an event, then recognises the same event id as a retry', async () => {
    const id = await interaction();
    const event: FeedbackRequest = { eventId: 'retry-test-1', interactionId: id, type: 'copied' };
    const first = await feedback.record(event);
    expect(first).toMatchObject({ eventId: 'retry-test-1', duplicate: false, reward: { events: 1 } });
    expect(first.reward.reward).toBeCloseTo(Math.tanh(config.weights.copied), 3);
    const again = await feedback.record(event);
    expect(again).toMatchObject({ duplicate: true, reward: { reward: first.reward.reward, events: 1 } });
    expect(await eventsOf(database.db, id)).toHaveLength(1);
  });

  it('refuses an event id reused for a different event, keeping the first', async () => {
    const id = await interaction();
    await feedback.record({ eventId: 'conflict-test-1', interactionId: id, type: 'copied' });
    const error = await rejection(feedback.record({ eventId: 'conflict-test-1', interactionId: id, type: 'regenerated' }));
    expect(error.code).toBe('CONFLICT');
    expect(error.fix).toMatch(/new eventId/);
    expect((await eventsOf(database.db, id)).map((event) => event.type)).toEqual(['copied']);
  });

  it('names an unknown interaction and stores nothing', async () => {
    const error = await rejection(feedback.record({ interactionId: newInteractionId(), type: 'copied' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toMatch(/No interaction/);
  });

  it('rejects absurd dwell times and edits without a measure', async () => {
    const id = await interaction();
    expect((await rejection(feedback.record({ interactionId: id, type: 'dwell', value: 3 * 86_400 }))).message).toMatch(/not plausible/);
    expect((await rejection(feedback.record({ interactionId: id, type: 'dwell', value: -1 }))).code).toBe('REQUEST_INVALID');
    expect((await rejection(feedback.record({ interactionId: id, type: 'dwell' }))).message).toMatch(/needs a value/);
    expect((await rejection(feedback.record({ interactionId: id, type: 'edited' }))).message).toMatch(/edit distance/);
    expect((await rejection(feedback.record({ interactionId: id, type: 'copied', occurredAt: '2999-01-01T00:00:00Z' }))).message).toMatch(/future/);
    expect(await eventsOf(database.db, id)).toHaveLength(0);
  });

  it('gives the same reward whatever order the events arrive in', async () => {
    const answer = 'def add(a, b):\n    return a + b\n';
    const events = (id: string): FeedbackRequest[] => [
      { interactionId: id, type: 'inserted' },
      { interactionId: id, type: 'edited', text: 'def add(a: int, b: int) -> int:\n    return a + b\n' },
      { interactionId: id, type: 'dwell', value: 30 },
      { interactionId: id, type: 'copied' },
    ];
    const forward = await interaction({ answer });
    const backward = await interaction({ answer });
    for (const event of events(forward)) await feedback.record(event);
    for (const event of events(backward).reverse()) await feedback.record(event);
    const [inOrder, reversed] = [await feedback.reward(forward), await feedback.reward(backward)];
    expect(inOrder.events).toBe(4);
    expect(inOrder.reward).toBe(reversed.reward);
    expect(inOrder.components).toEqual(reversed.components);
    expect(inOrder.components['edited']).toBeLessThan(0);
    expect(inOrder.reward).toBeGreaterThan(0.5);
  });

  it('rewards a regenerated, ignored answer below zero', async () => {
    const id = await interaction();
    await feedback.record({ interactionId: id, type: 'regenerated' });
    const { reward } = await feedback.record({ interactionId: id, type: 'ignored' });
    expect(reward.reward).toBeLessThan(-0.7);
    expect(reward.reward).toBeGreaterThanOrEqual(-1);
  });

  it('accepts many events for one answer at once without losing any', async () => {
    const id = await interaction();
    const acks = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        feedback.record({ eventId: `burst-${id}-${index}`, interactionId: id, type: index % 2 ? 'copied' : 'dwell', value: index % 2 ? undefined : index }),
      ),
    );
    expect(acks.every((ack) => !ack.duplicate)).toBe(true);
    expect(await eventsOf(database.db, id)).toHaveLength(12);
    expect((await feedback.reward(id)).events).toBe(12);
  });
});

describe('FeedbackService.noteFollowUp', () => {
  it("reads the next message's frustration into the previous answer's reward", async () => {
    const previous = await interaction({ conversationId: 'follow-up-test', question: 'How do I create an Odoo model?' });
    const next = newInteractionId();
    const followUp = await feedback.noteFollowUp({ interactionId: next, question: 'não funciona, de novo o mesmo erro!!', conversationId: 'follow-up-test' });
    expect(followUp).toMatchObject({ interactionId: previous, emotion: { label: 'frustration', language: 'pt' } });
    const reward = await feedback.reward(previous);
    expect(reward.reward).toBeLessThan(0);
    expect(reward.components['emotion']).toBeLessThan(0);
    const [event] = await eventsOf(database.db, previous);
    expect(event).toMatchObject({ id: `follow-up:${next}`, type: 'follow-up', detail: { followUpInteractionId: next, label: 'frustration' } });
  });

  it('reads satisfaction as a positive reward', async () => {
    const previous = await interaction({ conversationId: 'follow-up-happy' });
    await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'perfect, thanks! that works', conversationId: 'follow-up-happy' });
    expect((await feedback.reward(previous)).reward).toBeGreaterThan(0.3);
  });

  it('links only within the window, the same conversation and the same client; never by source alone', async () => {
    await interaction({ conversationId: 'window-test', createdAt: new Date(Date.now() - (config.followUpWindowSeconds + 60) * 1000) });
    await interaction({ conversationId: 'window-test', clientId: 'someone-else' });
    await interaction({ source: 'openai' });
    expect(await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'still wrong', conversationId: 'window-test' })).toBeNull();
    expect(
      await feedback.noteFollowUp({
        interactionId: newInteractionId(),
        question: 'still wrong',
        conversationId: 'other-conversation',
        clientId: 'someone-else',
      }),
    ).toBeNull();
    // No conversation, no history: a message of a new client follows nothing, whoever asked last.
    expect(await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'still wrong' })).toBeNull();
  });

  it("follows the answer the message's history ends with, among the same client's answers only", async () => {
    const question = 'How do I reverse a list in Python?';
    const answer = 'Use `items[::-1]` or `items.reverse()`.';
    const mine = await interaction({ question, answer, clientId: 'openai:alice' });
    const theirs = await interaction({ question, answer, clientId: 'openai:bob' });
    const history = [
      { role: 'user' as const, content: question },
      { role: 'assistant' as const, content: `${answer}\n` },
    ];
    expect(
      (await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'thanks, perfect', history, clientId: 'openai:alice' }))?.interactionId,
    ).toBe(mine);
    expect((await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'wrong!!', history, clientId: 'openai:bob' }))?.interactionId).toBe(
      theirs,
    );
    expect(await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'wrong!!', history, clientId: 'openai:carol' })).toBeNull();
    expect(
      await feedback.noteFollowUp({
        interactionId: newInteractionId(),
        question: 'wrong!!',
        history: [{ role: 'assistant', content: 'an answer nobody gave' }],
        clientId: 'openai:alice',
      }),
    ).toBeNull();
  });

  it('follows an explicit replyTo, and names one that does not exist', async () => {
    const old = await interaction({ source: 'reply-test', createdAt: new Date(Date.now() - 86_400_000) });
    expect((await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'obrigado, funcionou', replyTo: old }))?.interactionId).toBe(old);
    expect((await rejection(feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'ok', replyTo: 'nope' }))).code).toBe('NOT_FOUND');
  });
});

describe('behaviourStats', () => {
  it('computes acceptance, regenerations, frustration, reward and latency per project', async () => {
    const project = '/projects/stats-test';
    const accepted = await interaction({ project, source: 'stats', conversationId: 'stats-test' });
    await feedback.record({ interactionId: accepted, type: 'inserted' });
    const regenerated = await interaction({ project, source: 'stats', conversationId: 'stats-test' });
    await feedback.record({ interactionId: regenerated, type: 'regenerated' });
    await feedback.noteFollowUp({ interactionId: newInteractionId(), question: 'STILL WRONG. this is useless', conversationId: 'stats-test' });

    const stats = await behaviourStats(database.db, { project, days: 1, recent: 10 });
    expect(stats.overall).toMatchObject({
      interactions: 2,
      acceptanceRate: 0.5,
      regenerateRate: 0.5,
      frustrationRate: 1,
      rewarded: 2,
      cacheHitRate: 0,
      retrievalRate: 0,
    });
    expect(stats.overall.latencyMs).toEqual({ ttftP50: 100, ttftP95: 100, totalP50: 900, totalP95: 900 });
    expect(stats.overall.meanReward).toBeCloseTo((stats.recentRewards[0]!.reward + stats.recentRewards[1]!.reward) / 2, 3);
    expect(stats.projects).toEqual([expect.objectContaining({ project, interactions: 2 })]);
    expect(stats.daily).toHaveLength(1);
    expect(stats.recentRewards.map((item) => item.interactionId).sort()).toEqual([accepted, regenerated].sort());
  });

  it('answers with empty metrics, not an error, when nothing was asked', async () => {
    const stats = await behaviourStats(database.db, { project: '/never/used', days: 7, recent: 5 });
    expect(stats.overall).toMatchObject({ interactions: 0, acceptanceRate: null, meanReward: null });
    expect(stats.projects).toEqual([]);
  });
});

describe('regenerations and repeated dwell', () => {
  it('records a regeneration as a regenerated event of the old answer, not as a follow-up', async () => {
    const old = await interaction({ source: 'regen' });
    const summary = await feedback.noteRegeneration({ interactionId: newInteractionId(), regenerates: old });
    expect(summary.components).toEqual({ regenerated: -0.8 });
    expect((await eventsOf(database.db, old)).map((event) => event.type)).toEqual(['regenerated']);
    expect((await rejection(feedback.noteRegeneration({ interactionId: newInteractionId(), regenerates: 'missing' }))).code).toBe('NOT_FOUND');
  });

  it('keeps the longest dwell reported under one event id', async () => {
    const id = await interaction();
    await feedback.record({ eventId: `dwell-${id}`, interactionId: id, type: 'dwell', value: 12 });
    const longer = await feedback.record({ eventId: `dwell-${id}`, interactionId: id, type: 'dwell', value: 30 });
    expect(longer).toMatchObject({ duplicate: false, reward: { events: 1 } });
    expect(longer.reward.components['dwell']).toBeCloseTo(0.1, 4);
    const shorter = await feedback.record({ eventId: `dwell-${id}`, interactionId: id, type: 'dwell', value: 5 });
    expect(shorter).toMatchObject({ duplicate: true, reward: { reward: longer.reward.reward } });
    expect((await eventsOf(database.db, id))[0]?.value).toBe(30);
  });
});
