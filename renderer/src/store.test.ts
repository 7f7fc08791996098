import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AskRequest, AskResponse, FeedbackRequest, Progress } from '../../shared/contract.js';
import { cancelled, NpllmError } from '../../shared/errors.js';
import { createChatStore, historyTurns, shownAttempt, type ChatStore } from './store.js';
import { askResponse, feedbackAck, healthyEngine as health } from './test/fixtures.js';
import type { AskHooks, InvokeOptions, Transport } from './transport.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A transport whose asks the test answers by hand, and that records every other call in order. */
function fakeTransport() {
  const asks: { request: AskRequest; hooks: AskHooks; resolve: (result: AskResponse) => void; reject: (error: unknown) => void }[] = [];
  /** chat/ask and feedback/record in the order they were made. */
  const calls: { method: string; request: unknown; options?: InvokeOptions | undefined }[] = [];
  const invoke = vi.fn((method: string, request: unknown, options?: InvokeOptions): Promise<unknown> => {
    if (method === 'feedback/record') {
      calls.push({ method, request, options });
      return Promise.resolve(feedbackAck(request as FeedbackRequest));
    }
    return Promise.resolve(health);
  });
  const transport: Transport = {
    kind: 'http',
    invoke: invoke as Transport['invoke'],
    stream: () => Promise.reject(new Error('no streams in these tests')),
    ask: (asked, hooks = {}) =>
      new Promise<AskResponse>((resolve, reject) => {
        // Every question carries its chat's conversationId (tested on its own); these tests look at the rest.
        const { conversationId: _conversation, ...request } = asked;
        asks.push({ request, hooks, resolve, reject });
        calls.push({ method: 'chat/ask', request });
        // Like the real transports: abort rejects at once.
        hooks.signal?.addEventListener('abort', () => reject(cancelled()));
      }),
  };
  const feedback = () => calls.filter((call) => call.method === 'feedback/record').map((call) => call.request as FeedbackRequest);
  return { transport, invoke, asks, calls, feedback, last: () => asks.at(-1)! };
}

async function ask(store: ChatStore, question: string) {
  store.getState().setDraft(question);
  return store.getState().send();
}

/** Asks and answers a question, returning once the answer is recorded. */
async function answered(store: ChatStore, fake: ReturnType<typeof fakeTransport>, question: string, answer: string) {
  const sent = ask(store, question);
  fake.last().resolve(askResponse(answer));
  await sent;
}

const firstAttempt = (store: ChatStore, turn = 0) => store.getState().turns[turn]!.attempts[0]!;

describe('chat store', () => {
  it('streams an answer into a new turn, then records the result', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'reverse a string?');
    expect(store.getState()).toMatchObject({
      draft: '',
      busy: true,
      turns: [{ question: 'reverse a string?', shown: 0, attempts: [{ status: 'streaming', answer: '' }] }],
    });

    last().hooks.onToken?.('Use ');
    last().hooks.onToken?.('slicing');
    expect(firstAttempt(store).answer).toBe('Use slicing');

    last().resolve(askResponse('Use slicing.'));
    await sent;
    expect(store.getState()).toMatchObject({
      busy: false,
      turns: [{ attempts: [{ status: 'done', answer: 'Use slicing.', result: { interactionId: 'i-Use slicing.' } }] }],
    });
    // The status strip refreshes: the first answer loaded the model.
    await vi.waitFor(() => expect(store.getState().health).toEqual(health));
  });

  it('shows load progress until it is done or tokens arrive', () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    void ask(store, 'q');
    const loading: Progress = { task: 'model-load', label: 'Loading SmolLM2', fraction: 0.4, done: false };
    last().hooks.onProgress?.(loading);
    expect(firstAttempt(store).progress).toEqual(loading);
    last().hooks.onProgress?.({ ...loading, fraction: 1, done: true });
    expect(firstAttempt(store).progress).toBeNull();
    last().hooks.onProgress?.(loading);
    last().hooks.onToken?.('x');
    expect(firstAttempt(store).progress).toBeNull();
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
    expect(store.getState()).toMatchObject({
      busy: false,
      turns: [{ attempts: [{ status: 'error', error: { code: 'QUERY_TOO_LONG', message: 'The question is too long.', fix: 'Ask about less code.' } }] }],
    });
  });

  it('stop cancels the answer, keeps what arrived, and frees the input', async () => {
    const { transport, last } = fakeTransport();
    const store = createChatStore(transport);
    const sent = ask(store, 'q');
    last().hooks.onToken?.('partial');
    store.getState().stop();
    await sent;
    expect(last().hooks.signal?.aborted).toBe(true);
    expect(store.getState()).toMatchObject({ busy: false, turns: [{ attempts: [{ status: 'cancelled', answer: 'partial', error: null }] }] });
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
    expect(last().request).toEqual({ question: 'q', replyTo: null });
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

describe('chat store: implicit feedback', () => {
  it('a new question names the answer it follows (replyTo), and null when it follows none: first, after a failure, Stop or a new chat', async () => {
    const fake = fakeTransport();
    const store = createChatStore(fake.transport);
    await answered(store, fake, 'q1', 'a1');
    expect(fake.asks[0]!.request).toEqual({ question: 'q1', replyTo: null });
    void ask(store, 'q2');
    expect(fake.last().request).toEqual({
      question: 'q2',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
      ],
      replyTo: 'i-a1',
    });
    fake.last().reject(new NpllmError('GENERATION_FAILED', 'boom'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));

    // The answer just above failed: there is no answer this one reacts to.
    void ask(store, 'q3');
    expect(fake.last().request).toEqual({
      question: 'q3',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
      ],
      replyTo: null,
    });
    fake.last().resolve(askResponse('a3'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));

    // Stopped: nothing finished to react to either.
    void ask(store, 'q4');
    expect(fake.last().request.replyTo).toBe('i-a3');
    store.getState().stop();
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));
    void ask(store, 'q5');
    expect(fake.last().request.replyTo).toBeNull();
    fake.last().resolve(askResponse('a5'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));

    store.getState().newChat();
    void ask(store, 'q6');
    expect(fake.last().request).toEqual({ question: 'q6', replyTo: null });
    expect(fake.feedback()).toEqual([]);
  });

  it('copying a finished answer sends one copied event with a fresh UUID each time', async () => {
    const fake = fakeTransport();
    const store = createChatStore(fake.transport);
    await answered(store, fake, 'q', 'a');
    store.getState().copied(firstAttempt(store).id);
    store.getState().copied(firstAttempt(store).id);
    const [first, second] = fake.feedback();
    expect(first).toEqual({ eventId: expect.stringMatching(uuid), interactionId: 'i-a', type: 'copied' });
    expect(second).toEqual({ eventId: expect.stringMatching(uuid), interactionId: 'i-a', type: 'copied' });
    expect(first?.eventId).not.toBe(second?.eventId);

    // An answer still streaming has no interaction yet: nothing to report.
    void ask(store, 'q2');
    store.getState().copied(firstAttempt(store, 1).id);
    expect(fake.feedback()).toHaveLength(2);
  });

  it('regenerate asks again the same way without the cache, naming the answer on screen (regenerates) and sending no event of its own', async () => {
    const fake = fakeTransport();
    const store = createChatStore(fake.transport);
    await answered(store, fake, 'q1', 'a1');
    await answered(store, fake, 'q2', 'a2');
    const original = fake.asks[1]!.request;

    const regenerated = store.getState().regenerate();
    // The engine records the old answer's regenerated event from the request: no feedback/record.
    expect(fake.calls.at(-1)).toEqual({ method: 'chat/ask', request: { question: 'q2', history: original.history, noCache: true, regenerates: 'i-a2' } });
    expect(fake.feedback()).toEqual([]);
    // The new answer takes the old one's place on screen; the old one stays in the turn.
    let turn = store.getState().turns[1]!;
    expect(turn).toMatchObject({
      shown: 1,
      attempts: [
        { answer: 'a2', status: 'done' },
        { answer: '', status: 'streaming' },
      ],
    });
    expect(store.getState().busy).toBe(true);
    fake.last().resolve(askResponse('a2 again'));
    await regenerated;
    turn = store.getState().turns[1]!;
    expect(shownAttempt(turn)).toMatchObject({ answer: 'a2 again', result: { interactionId: 'i-a2 again' } });

    // The next question follows the answer on screen, as history and as replyTo.
    void ask(store, 'q3');
    expect(fake.last().request.history?.at(-1)).toEqual({ role: 'assistant', content: 'a2 again' });
    expect(fake.last().request.replyTo).toBe('i-a2 again');
    fake.last().resolve(askResponse('a3'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));

    // Paging back to the first answer: it becomes what the conversation continues from.
    store.getState().showAttempt(turn.id, 0);
    store.getState().showAttempt(turn.id, 7);
    expect(store.getState().turns[1]!.shown).toBe(0);
  });

  it('regenerate does nothing while an answer streams, and retries a failed one as a reply to nothing', async () => {
    const fake = fakeTransport();
    const store = createChatStore(fake.transport);
    void ask(store, 'q');
    await store.getState().regenerate();
    expect(fake.asks).toHaveLength(1);
    fake.last().reject(new NpllmError('GENERATION_FAILED', 'boom'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));

    void store.getState().regenerate();
    expect(fake.feedback()).toEqual([]);
    // The question was read as a reaction when first asked; the retry must not be read again.
    expect(fake.last().request).toEqual({ question: 'q', noCache: true, replyTo: null });
  });

  it('a feedback failure stays out of the chat: a quiet warning, the answer and the next question unaffected', async () => {
    const fake = fakeTransport();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    fake.invoke.mockImplementation((method: string) =>
      method === 'feedback/record' ? Promise.reject(new NpllmError('NOT_FOUND', 'No interaction with id i-a.')) : Promise.resolve(health),
    );
    const store = createChatStore(fake.transport);
    await answered(store, fake, 'q', 'a');
    store.getState().copied(firstAttempt(store).id);
    await vi.waitFor(() => expect(warn).toHaveBeenCalledWith(expect.stringContaining('copied feedback for interaction i-a was not recorded')));
    expect(fake.invoke.mock.calls.filter(([method]) => method === 'feedback/record')).toHaveLength(1);
    expect(store.getState()).toMatchObject({ busy: false, turns: [{ attempts: [{ status: 'done', error: null }] }] });
    await answered(store, fake, 'q2', 'a2');
    expect(store.getState().turns).toHaveLength(2);
    warn.mockRestore();
  });
});

describe('chat store: dwell', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A store whose dwell clock is the fake timers' clock. */
  function dwellStore(restMs = 60_000) {
    const fake = fakeTransport();
    const store = createChatStore(fake.transport, { dwell: { now: () => Date.now(), restMs } });
    return { fake, store };
  }

  const wait = (ms: number) => vi.advanceTimersByTime(ms);

  it('counts the time an answer is in view in an active window, from its first token, and sends it once with the next question', async () => {
    const { fake, store } = dwellStore();
    const { setPageActive, setAnswerInView } = store.getState();
    setPageActive(true);
    const sent = ask(store, 'q1');
    const attempt = firstAttempt(store).id;
    setAnswerInView(attempt, true);
    wait(4000); // read while streaming
    fake.last().resolve(askResponse('a1'));
    await sent;
    wait(3000);
    setPageActive(false); // another window: not counted
    wait(20_000);
    setPageActive(true);
    wait(2500);
    setAnswerInView(attempt, false); // scrolled away: not counted
    wait(10_000);
    setAnswerInView(attempt, true);
    wait(500);
    expect(fake.feedback()).toEqual([]);

    void ask(store, 'q2');
    expect(fake.feedback()).toEqual([{ eventId: 'dwell-i-a1', interactionId: 'i-a1', type: 'dwell', value: 10 }]);
    // Sent once: reading on, or later questions, send nothing more for it.
    wait(5000);
    fake.last().resolve(askResponse('a2'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));
    void ask(store, 'q3');
    expect(fake.feedback().filter((event) => event.interactionId === 'i-a1')).toHaveLength(1);
  });

  it('sends the dwell on its own once a read answer has been put aside for a while', async () => {
    const { fake, store } = dwellStore(60_000);
    store.getState().setPageActive(true);
    await answered(store, fake, 'q', 'a');
    store.getState().setAnswerInView(firstAttempt(store).id, true);
    wait(12_000);
    store.getState().setPageActive(false);
    wait(59_000);
    // Back before the rest is over: still the same reading.
    store.getState().setPageActive(true);
    wait(3000);
    store.getState().setPageActive(false);
    expect(fake.feedback()).toEqual([]);
    wait(60_000);
    expect(fake.feedback()).toEqual([{ eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 15 }]);
  });

  it('caps the dwell at an hour and sends it then', async () => {
    const { fake, store } = dwellStore();
    store.getState().setPageActive(true);
    await answered(store, fake, 'q', 'a');
    store.getState().setAnswerInView(firstAttempt(store).id, true);
    wait(3600_000);
    expect(fake.feedback()).toEqual([{ eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 3600 }]);
  });

  it("sends nothing for an answer never seen, or stopped, and the regenerated one's before asking again", async () => {
    const { fake, store } = dwellStore();
    store.getState().setPageActive(true);
    const stopped = ask(store, 'q0');
    store.getState().setAnswerInView(firstAttempt(store).id, true);
    wait(5000);
    store.getState().stop();
    await stopped;
    await answered(store, fake, 'q1', 'a1');
    expect(fake.feedback()).toEqual([]);

    store.getState().setAnswerInView(firstAttempt(store, 1).id, true);
    wait(7000);
    void store.getState().regenerate();
    expect(fake.calls.slice(-2)).toEqual([
      { method: 'feedback/record', request: { eventId: 'dwell-i-a1', interactionId: 'i-a1', type: 'dwell', value: 7 }, options: { askForKey: false } },
      { method: 'chat/ask', request: { question: 'q1', noCache: true, regenerates: 'i-a1' } },
    ]);
    expect(fake.feedback()).toHaveLength(1);
    // Regenerated: the old answer is closed, reading it on (paged back) sends nothing more.
    store.getState().showAttempt(store.getState().turns[1]!.id, 0);
    wait(20_000);
    fake.last().resolve(askResponse('a1 again'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));
    store.getState().leave();
    expect(fake.feedback().filter((event) => event.interactionId === 'i-a1')).toHaveLength(1);
  });

  it('re-sends a larger total under the same eventId when a settled answer is read on by 5 s or more', async () => {
    const { fake, store } = dwellStore(60_000);
    store.getState().setPageActive(true);
    await answered(store, fake, 'q', 'a');
    const attempt = firstAttempt(store).id;
    store.getState().setAnswerInView(attempt, true);
    wait(12_000);
    store.getState().setPageActive(false);
    wait(60_000);
    expect(fake.feedback()).toEqual([{ eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 12 }]);

    // Back for 3 s: too little to report again, even on leaving.
    store.getState().setPageActive(true);
    wait(3000);
    store.getState().setPageActive(false);
    wait(60_000);
    store.getState().leave();
    expect(fake.feedback()).toHaveLength(1);

    // 4 s more (7 s since it was sent): the new total goes with the next question, and that is the last.
    store.getState().setPageActive(true);
    wait(4000);
    void ask(store, 'q2');
    expect(fake.feedback()).toEqual([
      { eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 12 },
      { eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 19 },
    ]);
    wait(30_000);
    fake.last().resolve(askResponse('a2'));
    await vi.waitFor(() => expect(store.getState().busy).toBe(false));
    store.getState().leave();
    expect(fake.feedback().filter((event) => event.interactionId === 'i-a')).toHaveLength(2);
  });

  it('leaving the page sends every read answer with keepalive; a new chat sends them too', async () => {
    const { fake, store } = dwellStore();
    store.getState().setPageActive(true);
    await answered(store, fake, 'q1', 'a1');
    store.getState().setAnswerInView(firstAttempt(store).id, true);
    wait(2000);
    await answered(store, fake, 'q2', 'a2');
    store.getState().setAnswerInView(firstAttempt(store, 1).id, true);
    wait(1500);
    store.getState().leave();
    const calls = fake.calls.filter((call) => call.method === 'feedback/record');
    expect(calls.map((call) => [call.request, call.options])).toEqual([
      [{ eventId: 'dwell-i-a1', interactionId: 'i-a1', type: 'dwell', value: 2 }, { askForKey: false }],
      [
        { eventId: 'dwell-i-a2', interactionId: 'i-a2', type: 'dwell', value: 1.5 },
        { askForKey: false, keepalive: true },
      ],
    ]);

    const { fake: other, store: again } = dwellStore();
    again.getState().setPageActive(true);
    await answered(again, other, 'q', 'a');
    again.getState().setAnswerInView(firstAttempt(again).id, true);
    wait(1000);
    again.getState().newChat();
    expect(other.feedback()).toEqual([{ eventId: 'dwell-i-a', interactionId: 'i-a', type: 'dwell', value: 1 }]);
  });
});
