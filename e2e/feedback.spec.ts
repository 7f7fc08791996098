/**
 * Implicit feedback end to end: what the reader does in the chat (copy, regenerate, read, ask a
 * follow-up) reaches a real `npllm serve` as feedback events or as fields of `chat/ask`
 * (`replyTo`, `regenerates`), is stored, and shows in the rewards and behaviour stats.
 * Assertions are about requests, events and rewards, never about the model's prose.
 */
import { expect, test, type APIRequestContext, type BrowserContext, type Page, type Request } from '@playwright/test';
import type { AskRequest, BehaviourStats, FeedbackAck, FeedbackRequest, InteractionRecord } from '../shared/contract.js';
import { startNpllmServer, type NpllmServer } from './server.js';

declare const navigator: { clipboard: { readText(): Promise<string> } };

const question = 'Write a Python function that checks whether a number is prime';

let server: NpllmServer;
let context: BrowserContext;
let page: Page;
/** Every feedback/record and chat/ask the page sent, in order. */
const sent: { method: string; body: unknown }[] = [];

test.beforeAll(async ({ browser }) => {
  server = await startNpllmServer();
  context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], baseURL: server.url });
  page = await context.newPage();
  page.on('request', (request: Request) => {
    const method = /\/api\/(feedback\/record|chat\/ask)$/.exec(new URL(request.url()).pathname)?.[1];
    if (method) sent.push({ method, body: request.postDataJSON() });
  });
});

test.afterAll(async () => {
  await context?.close();
  await server?.stop();
});

const feedbackSent = () => sent.filter((call) => call.method === 'feedback/record').map((call) => call.body as FeedbackRequest);
const asks = () => sent.filter((call) => call.method === 'chat/ask').map((call) => call.body as AskRequest);
/** What each question said besides its conversation (checked on its own below). */
const asksSent = () => asks().map(({ conversationId: _conversation, ...rest }) => rest);

/** Waits for the engine's answer to the next feedback/record of `type` (about `interactionId`, if given), and returns it. */
function acknowledged(type: FeedbackRequest['type'], interactionId?: string): Promise<FeedbackAck> {
  return page
    .waitForResponse((response) => {
      if (!response.url().endsWith('/api/feedback/record')) return false;
      const event = response.request().postDataJSON() as FeedbackRequest;
      return event.type === type && (interactionId === undefined || event.interactionId === interactionId);
    })
    .then(async (response) => {
      expect(response.status()).toBe(200);
      return (await response.json()) as FeedbackAck;
    });
}

async function api<T>(request: APIRequestContext, method: string, body: unknown): Promise<T> {
  const response = await request.post(`${server.url}/api/${method}`, { data: body });
  expect(response.status(), `${method}: ${await response.text()}`).toBe(200);
  return (await response.json()) as T;
}

test('copy, regenerate, reading and a follow-up are recorded as feedback, never a rating', async ({ request }) => {
  test.setTimeout(300_000);
  await page.goto('/');
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('answer').first();
  await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  const first = (await answer.getAttribute('data-interaction-id'))!;
  expect(first).toMatch(/^[0-9a-f-]{36}$/);
  // The first question of a conversation reacts to no earlier answer.
  expect(asksSent()).toEqual([{ question, replyTo: null }]);
  // Implicit only: there is nothing to rate.
  await expect(page.getByRole('button', { name: /thumb|\blike\b|helpful|\brate\b|rating/i })).toHaveCount(0);

  // Copy: the answer as the engine stored it, on the clipboard, and a copied event.
  const copied = acknowledged('copied');
  await answer.getByTestId('copy-answer').click();
  await expect(answer.getByTestId('copy-answer')).toHaveAttribute('data-state', 'copied');
  const stored = await api<InteractionRecord>(request, 'interactions/get', { id: first });
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(stored.answer);
  expect(await copied).toMatchObject({ duplicate: false, reward: { interactionId: first, components: { copied: expect.any(Number) } } });

  // Regenerate: the request names the answer on screen (`regenerates`); the engine records that
  // answer's regenerated event itself, so the page sends none. A fresh answer takes its place.
  const firstText = await answer.getByTestId('answer-text').textContent();
  await answer.getByTestId('regenerate').click();
  await expect(answer).toHaveAttribute('data-attempts', '2');
  await expect(answer).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  await expect(answer.getByTestId('attempt-position')).toHaveText('2 / 2');
  await expect(answer.getByTestId('cached-badge')).toHaveCount(0);
  const second = (await answer.getAttribute('data-interaction-id'))!;
  expect(second).not.toBe(first);
  expect(asksSent().at(-1)).toEqual({ question, noCache: true, regenerates: first });
  expect(feedbackSent().map((event) => event.type)).not.toContain('regenerated');
  // The first answer is still there, one click back.
  await answer.getByTestId('attempt-previous').click();
  await expect(answer.getByTestId('answer-text')).toHaveText(firstText ?? '');
  await answer.getByTestId('attempt-next').click();
  await expect(answer).toHaveAttribute('data-interaction-id', second);

  // A follow-up names the answer on screen; the reading time of that answer goes with it.
  const dwell = acknowledged('dwell', second);
  const followUp = 'Thanks, that works! Can you add type hints?';
  await page.getByTestId('chat-input').fill(followUp);
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('answer').nth(1)).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  const secondStored = await api<InteractionRecord>(request, 'interactions/get', { id: second });
  expect(asksSent().at(-1)).toEqual({
    question: followUp,
    history: [
      { role: 'user', content: question },
      { role: 'assistant', content: secondStored.answer },
    ],
    replyTo: second,
  });
  expect(asksSent()).toHaveLength(3);
  // One chat: every question, the regenerated one included, carries the same conversation.
  const conversations = new Set(asks().map((ask) => ask.conversationId));
  expect(conversations.size).toBe(1);
  expect([...conversations][0]).toMatch(/^[0-9a-f-]{36}$/);
  await dwell;

  const events = feedbackSent();
  // Read while the first answer streamed and was copied: its dwell went before it was regenerated.
  // No regenerated event from the page: the engine stored one from the request.
  expect(events.map((event) => [event.type, event.interactionId])).toEqual([
    ['copied', first],
    ['dwell', first],
    ['dwell', second],
  ]);
  for (const event of events) expect(event.eventId).toMatch(event.type === 'dwell' ? `dwell-${event.interactionId}` : /^[0-9a-f-]{36}$/);
  for (const event of events.filter((each) => each.type === 'dwell')) expect(event.value).toBeGreaterThan(0);

  // Stored, and idempotent: the same event again changes nothing, and its acknowledgement shows
  // the reward: copied, dwell and the engine's regenerated, and no follow-up: the repeated
  // question was not read as the reader's reaction to the answer it replaced.
  const resent = await api<FeedbackAck>(request, 'feedback/record', events[1]);
  expect(resent).toMatchObject({ eventId: `dwell-${first}`, duplicate: true, reward: { interactionId: first, events: 3 } });
  expect(Object.keys(resent.reward.components).sort()).toEqual(['copied', 'dwell', 'regenerated']);
  expect(resent.reward.components['regenerated']).toBeLessThan(0);

  // A dwell reported again with a longer reading time replaces the stored one: same event.
  const longer = await api<FeedbackAck>(request, 'feedback/record', { ...events[1], value: (events[1]!.value ?? 0) + 30 });
  expect(longer).toMatchObject({ eventId: `dwell-${first}`, duplicate: false, reward: { interactionId: first, events: 3 } });
  expect(longer.reward.components['dwell']).toBeGreaterThan(resent.reward.components['dwell']!);

  // The regenerated answer: its dwell and the one follow-up (the thanks), no regenerated event.
  const secondReward = await api<FeedbackAck>(request, 'feedback/record', events[2]);
  expect(secondReward).toMatchObject({ duplicate: true, reward: { interactionId: second, events: 2 } });
  expect(Object.keys(secondReward.reward.components)).not.toContain('regenerated');

  const stats = await api<BehaviourStats>(request, 'stats/behaviour', {});
  expect(stats.overall.acceptanceRate).toBeGreaterThan(0);
  expect(stats.overall.regenerateRate).toBeGreaterThan(0);
  const rewarded = new Map(stats.recentRewards.map((entry) => [entry.interactionId, entry]));
  // copied, dwell, regenerated: the regeneration was not also read as a follow-up of it.
  expect(rewarded.get(first)?.events).toBe(3);
  // Its dwell, and the follow-up message read as the reaction to it.
  expect(rewarded.get(second)?.events).toBe(2);
});
