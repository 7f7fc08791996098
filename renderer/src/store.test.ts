import { describe, expect, it, vi } from 'vitest';
import type { AskRequest, AskResponse, Progress } from '../../shared/contract.js';
import { cancelled, NpllmError } from '../../shared/errors.js';
import { createChatStore, historyTurns } from './store.js';
import { askResponse, healthyEngine as health } from './test-fixtures.js';
import type { AskHooks, Transport } from './transport.js';

/** A transport whose asks the test answers by hand. */
function fakeTransport() {
  const asks: { request: AskRequest; hooks: AskHooks; resolve: (result: AskResponse) => void; reject: (error: unknown) => void }[] = [];
  const invoke = vi.fn((): Promise<unknown> => Promise.resolve(health));
  const transport: Transport = {
    kind: 'http',
    invoke: invoke as Transport['invoke'],
    ask: (request, hooks = {}) =>
      new Promise<AskResponse>((resolve, reject) => {
        asks.push({ request, hooks, resolve, reject });
        // Like the real transports: abort rejects at once.
        hooks.signal?.addEventListener('abort', () => reject(cancelled()));
      }),
  };
  return { transport, invoke, asks, last: () => asks.at(-1)! };
}

async function ask(store: ReturnType<typeof createChatStore>, question: string) {
  store.getState().setDraft(question);
  return store.getState().send();
}

describe('chat store', () => {
  it('streams an answer into a new turn, then records the result', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'reverse a string?');
    expect(store.getState()).toMatchObject({ draft: '', busy: true, turns: [{ question: 'reverse a string?', status: 'streaming', answer: '' }] });

    last().hooks.onToken?.('Use ');
    last().hooks.onToken?.('slicing');
    expect(store.getState().turns[0]?.answer).toBe('Use slicing');

    last().resolve(askResponse('Use slicing.'));
    await sent;
    expect(store.getState()).toMatchObject({ busy: false, turns: [{ status: 'done', answer: 'Use slicing.', result: { interactionId: 'i-Use slicing.' } }] });
    // The status strip refreshes: the first answer loaded the model.
    await vi.waitFor(() => expect(store.getState().health).toEqual(health));
  });

  it('shows load progress until it is done or tokens arrive', () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    void ask(store, 'q');
    const loading: Progress = { task: 'model-load', label: 'Loading SmolLM2', fraction: 0.4, done: false };
    last().hooks.onProgress?.(loading);
    expect(store.getState().turns[0]?.progress).toEqual(loading);
    last().hooks.onProgress?.({ ...loading, fraction: 1, done: true });
    expect(store.getState().turns[0]?.progress).toBeNull();
    last().hooks.onProgress?.(loading);
    last().hooks.onToken?.('x');
    expect(store.getState().turns[0]?.progress).toBeNull();
  });

  it('does not send an empty question, or a second one while answering', async () => {
    const { transport, asks } = fakeTransport();
    const store = createChatStore(transport);
    await ask(store, '   \n ');
    expect(asks).toHaveLength(0);
    expect(store.getState().turns).toEqual([]);

    void ask(store, 'first');
    void ask(store, 'second');
    expect(asks).toHaveLength(1);
    expect(store.getState().draft).toBe('second');
  });

  it('keeps an error with its message and fix on the turn', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'q');
    last().reject(new NpllmError('QUERY_TOO_LONG', 'The question is too long.', { fix: 'Ask about less code.' }));
    await sent;
    expect(store.getState()).toMatchObject({ busy: false, turns: [{ status: 'error', error: { code: 'QUERY_TOO_LONG', message: 'The question is too long.', fix: 'Ask about less code.' } }] });
  });

  it('stop cancels the answer, keeps what arrived, and frees the input', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'q');
    last().hooks.onToken?.('partial');
    store.getState().stop();
    await sent;
    expect(last().hooks.signal?.aborted).toBe(true);
    expect(store.getState()).toMatchObject({ busy: false, turns: [{ status: 'cancelled', answer: 'partial', error: null }] });
  });

  it('sends completed earlier turns as history, the latest few only', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    for (let index = 0; index < historyTurns + 1; index++) {
      const sent = ask(store, `q${index}`);
      last().resolve(askResponse(`a${index}`));
      await sent;
    }
    const failed = ask(store, 'broken');
    last().reject(new NpllmError('GENERATION_FAILED', 'boom'));
    await failed;

    void ask(store, 'follow-up');
    const history = last().request.history ?? [];
    expect(history).toHaveLength(historyTurns * 2);
    expect(history.slice(-2)).toEqual([
      { role: 'user', content: `q${historyTurns}` },
      { role: 'assistant', content: `a${historyTurns}` },
    ]);
    expect(history.some((message) => message.content === 'broken')).toBe(false);
  });

  it('a new chat forgets the conversation, so the next question has no history', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'q');
    last().resolve(askResponse('a'));
    await sent;
    store.getState().newChat();
    expect(store.getState().turns).toEqual([]);
    void ask(store, 'q');
    expect(last().request).toEqual({ question: 'q' });
  });

  it('reports a failing health check instead of the strip', async () => {
    const { transport, invoke } = fakeTransport();
    invoke.mockRejectedValueOnce(new NpllmError('DATABASE_LOCKED', 'In use.', { fix: 'Stop the other npllm.' }));
    const store = createChatStore(transport);
    await store.getState().refreshHealth();
    expect(store.getState().healthError).toMatchObject({ code: 'DATABASE_LOCKED', fix: 'Stop the other npllm.' });
    await store.getState().refreshHealth();
    expect(store.getState()).toMatchObject({ health, healthError: null });
  });
});
