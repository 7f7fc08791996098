/**
 * 50 OpenAI clients at once, each with its own `user`, against a real server (tiny model, PGlite):
 * every client's follow-up scores its own answer and nobody else's. Before, follow-ups keyed on
 * "same source within 10 minutes", and every OpenAI client is source `openai`: concurrent clients
 * were scored as reactions to each other (36 invented rewards after one load test).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAiChatResponse } from '../shared/openai.js';
import { feedbackEvents, rewards } from '../electron/engine/db/schema.js';
import { postJson, serve, type Served } from './support.js';

const clients = 50;
const question = 'Write a Python function that reverses a string.';
const pleased = 'perfect, thanks! that works';
const annoyed = 'this is wrong, it does not work!!';

let served: Served;

beforeAll(async () => {
  served = await serve({ model: { maxTokens: 8 } }, { maxBodyBytes: 1024 * 1024 });
});

afterAll(async () => {
  await served?.close();
});

async function complete(body: unknown): Promise<OpenAiChatResponse> {
  const response = await postJson(served.server.url, '/v1/chat/completions', body);
  expect(response.status, response.body).toBe(200);
  return JSON.parse(response.body) as OpenAiChatResponse;
}

describe(`${clients} concurrent OpenAI clients with distinct users`, () => {
  it('score only their own answers: no cross-talk in rewards', async () => {
    // Everyone asks the same question at once: identical text is the worst case for telling them apart.
    const first = await Promise.all(
      Array.from({ length: clients }, (_, client) => complete({ user: `client-${client}`, max_tokens: 8, messages: [{ role: 'user', content: question }] })),
    );
    // Each reacts to its own answer, half pleased and half annoyed, all at once.
    const second = await Promise.all(
      first.map((answer, client) =>
        complete({
          user: `client-${client}`,
          max_tokens: 8,
          messages: [
            { role: 'user', content: question },
            { role: 'assistant', content: answer.choices[0]!.message.content },
            { role: 'user', content: client % 2 === 0 ? pleased : annoyed },
          ],
        }),
      ),
    );
    // Fifty more clients open new conversations with an angry first message: a reaction to nothing.
    const strangers = await Promise.all(
      Array.from({ length: clients }, (_, client) => complete({ user: `stranger-${client}`, max_tokens: 8, messages: [{ role: 'user', content: annoyed }] })),
    );
    // And anonymous clients (no user) too: no history, no conversation, no follow-up.
    await Promise.all(Array.from({ length: 5 }, () => complete({ max_tokens: 8, messages: [{ role: 'user', content: annoyed }] })));

    const db = served.engine.database.db;
    const followUps = await db.select().from(feedbackEvents).where(eq(feedbackEvents.type, 'follow-up'));
    expect(followUps).toHaveLength(clients);
    const byAnswer = new Map(followUps.map((event) => [event.interactionId, event]));
    for (let client = 0; client < clients; client++) {
      const event = byAnswer.get(first[client]!.npllm.interactionId);
      expect(event, `client ${client}'s answer got its follow-up`).toBeDefined();
      expect(event!.detail).toMatchObject({ followUpInteractionId: second[client]!.npllm.interactionId });
      expect(Math.sign(event!.value ?? 0), `client ${client} was ${client % 2 === 0 ? 'pleased' : 'annoyed'}`).toBe(client % 2 === 0 ? 1 : -1);
    }

    const scored = await db.select().from(rewards);
    expect(scored.map((row) => row.interactionId).sort()).toEqual(first.map((answer) => answer.npllm.interactionId).sort());
    for (const [client, answer] of first.entries()) {
      const reward = scored.find((row) => row.interactionId === answer.npllm.interactionId)!;
      expect(reward.events).toBe(1);
      expect(Math.sign(reward.reward)).toBe(client % 2 === 0 ? 1 : -1);
    }
    // Nothing a stranger said was taken as anyone's reaction.
    const strangerIds = new Set(strangers.map((answer) => answer.npllm.interactionId));
    expect(followUps.filter((event) => strangerIds.has((event.detail as { followUpInteractionId: string }).followUpInteractionId))).toEqual([]);
  });
});
