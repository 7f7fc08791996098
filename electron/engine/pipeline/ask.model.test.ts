import { appendFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findInteraction, listInteractions } from '../data-collection/queries.js';
import { Engine } from '../engine.js';
import { fixtureModelPath, rejection, tempHome, testConfig, type TempHome } from '../test/support.js';

let home: TempHome;
const engines: Engine[] = [];
beforeEach(() => {
  home = tempHome();
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  home.cleanup();
});

async function openEngine(overrides: Parameters<typeof testConfig>[1] = {}): Promise<Engine> {
  const engine = await Engine.open(testConfig(home.home, overrides));
  engines.push(engine);
  return engine;
}

const question = 'Write a Python function that reverses a string';

describe('ask: the critical path (real model, real PGlite)', () => {
  it('answers, records the whole interaction, then serves the repeat from the cache without the model', async () => {
    const first = await openEngine();
    const tokens: string[] = [];
    const answer = await first.ask({ question, source: 'cli' }, { onToken: (text) => tokens.push(text) });
    expect(answer.cached).toBe(false);
    expect(answer.answer).toBe(tokens.join(''));
    expect(answer.model).toBe('SmolLM2-135M-Instruct.Q4_1');
    const record = await findInteraction(first.database.db, answer.interactionId);
    expect(record).toMatchObject({ status: 'completed', answer: answer.answer, question, source: 'cli', cached: false, model: answer.model });
    expect(record?.timings?.tokens).toBe(answer.timings.tokens);
    expect(record?.finishedAt).not.toBeNull();
    await first.dispose();

    // A new process on the same data: the cache answers and the model is never loaded.
    const second = await openEngine();
    const repeat = await second.ask({ question: '  write a python function that REVERSES a string?  ' });
    expect(repeat).toMatchObject({ cached: true, cachedFrom: answer.interactionId, answer: answer.answer });
    expect(repeat.interactionId).not.toBe(answer.interactionId);
    expect(second.model.isLoaded).toBe(false);
    expect((await findInteraction(second.database.db, repeat.interactionId))?.cached).toBe(true);

    const fresh = await second.ask({ question, noCache: true });
    expect(fresh.cached).toBe(false);
    expect(second.model.isLoaded).toBe(true);
  });

  it('does not reuse answers across models, conversations or projects', async () => {
    const engine = await openEngine();
    const base = await engine.ask({ question, maxTokens: 12 });
    const shop = join(home.home, 'shop');
    mkdirSync(shop);
    expect((await engine.ask({ question, maxTokens: 12, project: shop })).cached).toBe(false);
    expect((await engine.ask({ question, maxTokens: 12, history: [{ role: 'user', content: 'Use Python 2.' }] })).cached).toBe(false);
    expect((await engine.ask({ question, maxTokens: 12 })).cachedFrom).toBe(base.interactionId);
    await engine.dispose();

    // Same weights plus a trailing byte: another file, another fingerprint, so no stale answer.
    const other = join(home.home, 'other-model.gguf');
    copyFileSync(fixtureModelPath, other);
    appendFileSync(other, Buffer.alloc(1));
    const switched = await openEngine({ model: { path: other } });
    expect((await switched.ask({ question, maxTokens: 12 })).cached).toBe(false);
  });

  it('does not cache an answer the model got stuck repeating', async () => {
    const engine = await openEngine({ model: { temperature: 0 } });
    const loop = 'List the numbers 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 and continue the pattern';
    const first = await engine.ask({ question: loop, maxTokens: 300 });
    expect(first.finishReason).toBe('repetition');
    expect((await engine.ask({ question: loop, maxTokens: 300 })).cached).toBe(false);
  });

  it('records a cancelled answer with what was generated so far', async () => {
    const engine = await openEngine();
    const controller = new AbortController();
    let count = 0;
    const error = await rejection(
      engine.ask(
        { question: 'Write a long tutorial on Rust lifetimes.', maxTokens: 300 },
        {
          signal: controller.signal,
          onToken: () => {
            if (++count === 4) controller.abort();
          },
        },
      ),
    );
    expect(error.code).toBe('CANCELLED');
    const [record] = await listInteractions(engine.database.db, { limit: 1 });
    expect(record).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(record?.answer?.length).toBeGreaterThan(0);
  });

  it("reads the next question as the previous answer's follow-up, unless told it follows nothing or regenerates", async () => {
    const engine = await openEngine();
    const first = await engine.ask({ question, source: 'api', conversationId: 'follow-up-test', maxTokens: 8 });
    await engine.ask({ question: 'this is wrong, it does not work!!', source: 'api', conversationId: 'follow-up-test', maxTokens: 8 });
    const afterFollowUp = await engine.feedback.reward(first.interactionId);
    expect(afterFollowUp.components['emotion']).toBeLessThan(0);

    await engine.ask({ question: 'still wrong, useless', source: 'api', conversationId: 'follow-up-test', replyTo: null, maxTokens: 8 });
    // The same way in, another conversation: not a reaction to this one's answers.
    await engine.ask({ question: 'this is useless!!', source: 'api', maxTokens: 8 });
    expect(await engine.feedback.reward(first.interactionId)).toEqual(afterFollowUp);

    const again = await engine.ask({ question, source: 'api', noCache: true, regenerates: first.interactionId, maxTokens: 8 });
    const regenerated = await engine.feedback.reward(first.interactionId);
    expect(regenerated.components).toMatchObject({ emotion: afterFollowUp.components['emotion'], regenerated: -0.8 });
    expect(regenerated.events).toBe(afterFollowUp.events + 1);
    expect(again.cached).toBe(false);
    expect((await rejection(engine.ask({ question, regenerates: 'nope', maxTokens: 8 }))).code).toBe('NOT_FOUND');
  });

  it('rejects empty and oversized questions before recording or running anything', async () => {
    const engine = await openEngine();
    const empty = await rejection(engine.ask({ question: ' \n\t ' }));
    expect(empty.code).toBe('QUERY_EMPTY');
    const huge = await rejection(engine.ask({ question: 'x'.repeat(1024 * 1024) }));
    expect(huge.code).toBe('QUERY_TOO_LONG');
    expect(huge.message).toContain('1048576');
    expect(huge.fix).toContain('query.maxChars');
    expect(await listInteractions(engine.database.db, { limit: 5 })).toEqual([]);
    expect(engine.model.isLoaded).toBe(false);
  });

  it('validates untrusted requests against the contract', async () => {
    const engine = await openEngine();
    const error = await rejection(engine.api.call('chat/ask', { question: 42, colour: 'red' }, { caller: 'http' }));
    expect(error.code).toBe('REQUEST_INVALID');
    expect(error.message).toContain('question');
    expect((await rejection(engine.api.call('interactions/get', { id: 'missing' }, { caller: 'http' }))).code).toBe('NOT_FOUND');
  });

  it('reports a database that went away instead of losing the answer silently', async () => {
    const engine = await openEngine();
    await engine.database.close();
    const error = await rejection(engine.ask({ question: 'What is a closure?' }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    const health = await engine.health();
    expect(health.status).toBe('degraded');
  });
});
