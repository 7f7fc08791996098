import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AskRequest, AskResponse, FeedbackRequest } from '../../shared/contract.js';
import { cancelled, NpllmError } from '../../shared/errors.js';
import { App } from './App.js';
import { createChatStore, type ChatStoreOptions } from './store.js';
import { askResponse, feedbackAck, healthyEngine as health } from './test/fixtures.js';
import type { AskHooks, InvokeOptions, Transport } from './transport.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
let asks: { request: AskRequest; hooks: AskHooks; resolve: (result: AskResponse) => void; reject: (error: unknown) => void }[];
/** Every request the view made of the engine, but health checks, in order. */
let requests: { method: string; request: unknown; options?: InvokeOptions | undefined }[];

beforeEach(() => {
  asks = [];
  requests = [];
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(async () => {
  await run(() => root.unmount());
  container.remove();
});

/**
 * jsdom's page counts as visible and focused, and without IntersectionObserver every answer as in
 * view: on a stopped dwell clock no reading time accrues unless a test drives the clock itself.
 */
async function renderApp(focusRequests?: (listener: () => void) => () => void, options: ChatStoreOptions = { dwell: { now: () => 0 } }) {
  const invoke = (method: string, request: unknown, invokeOptions?: InvokeOptions) => {
    if (method === 'system/health') return Promise.resolve(health);
    if (method === 'conversations/list') return Promise.resolve({ items: [] });
    requests.push({ method, request, options: invokeOptions });
    return Promise.resolve(feedbackAck(request as FeedbackRequest));
  };
  const transport: Transport = {
    kind: 'http',
    // A fake that answers only what the chat asks for; typed loosely on purpose.
    invoke: vi.fn(invoke) as unknown as Transport['invoke'],
    stream: () => Promise.reject(new Error('no streams in these tests')),
    ask: (asked, hooks = {}) =>
      new Promise((resolve, reject) => {
        // Every question carries its chat's conversationId (tested on its own); these tests look at the rest.
        const { conversationId: _conversation, ...request } = asked;
        asks.push({ request, hooks, resolve, reject });
        requests.push({ method: 'chat/ask', request });
        hooks.signal?.addEventListener('abort', () => reject(cancelled()));
      }),
  };
  await run(() => root.render(<App store={createChatStore(transport, options)} onFocusRequest={focusRequests} />));
}

const feedbackSent = () => requests.filter((request) => request.method === 'feedback/record').map((request) => request.request as FeedbackRequest);

const byTestId = <T extends HTMLElement = HTMLElement>(id: string) => container.querySelector<T>(`[data-testid="${id}"]`);
const allByTestId = (id: string) => [...container.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];

/** Types the way a user does: React listens to the input event, not to `value` being set. */
async function typeInto(textarea: HTMLTextAreaElement, value: string) {
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set?.call(textarea, value);
  await run(() => textarea.dispatchEvent(new Event('input', { bubbles: true })));
}

async function press(textarea: HTMLTextAreaElement, init: KeyboardEventInit) {
  const event = new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init });
  await run(() => textarea.dispatchEvent(event));
  return event;
}

/** Runs a state change inside act, and lets the promises it settles (store → transport) finish first. */
async function run(change: () => unknown) {
  await act(async () => {
    change();
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

describe('App', () => {
  it('shows the health strip: model, load state, database', async () => {
    await renderApp();
    expect(byTestId('health-model')?.textContent).toBe('SmolLM2-135M-Instruct.Q4_1');
    expect(byTestId('health-loaded')?.textContent).toMatch(/first question/);
    expect(byTestId('health-database')?.textContent).toBe('pglite');
  });

  it('disables Send until there is a question; Enter sends, Shift+Enter does not', async () => {
    await renderApp();
    const textarea = byTestId<HTMLTextAreaElement>('chat-input')!;
    expect(byTestId<HTMLButtonElement>('send')?.disabled).toBe(true);
    expect((await press(textarea, { key: 'Enter' })).defaultPrevented).toBe(true);
    expect(asks).toHaveLength(0);

    await typeInto(textarea, 'Reverse a string?');
    expect(byTestId<HTMLButtonElement>('send')?.disabled).toBe(false);
    expect((await press(textarea, { key: 'Enter', shiftKey: true })).defaultPrevented).toBe(false);
    expect(asks).toHaveLength(0);

    await press(textarea, { key: 'Enter' });
    expect(asks.map((ask) => ask.request.question)).toEqual(['Reverse a string?']);
    expect(textarea.value).toBe('');
  });

  it('streams tokens, then shows the meta line and the cached badge', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'Reverse a string?');
    await run(() => byTestId('send')?.click());
    await run(() => asks[0]!.hooks.onToken?.('Use `s'));
    expect(byTestId('answer')?.dataset['status']).toBe('streaming');
    expect(byTestId('answer-text')?.textContent).toContain('Use `s');
    expect(byTestId('stop')).not.toBeNull();

    await run(() => asks[0]!.resolve(askResponse('Use `s[::-1]`.', true)));
    expect(byTestId('answer')?.dataset['status']).toBe('done');
    expect(byTestId('answer-meta')?.textContent).toMatch(/SmolLM2.*7 tokens.*ttft 120 ms/);
    expect(byTestId('cached-badge')?.textContent).toBe('cached');
    expect(byTestId('send')).not.toBeNull();
    expect(byTestId('sources')).toBeNull();
  });

  it("lists the project code an answer was given, with the gate's reasons", async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'What does `apply_vat` do?');
    await run(() => byTestId('send')?.click());
    const retrieval = {
      used: true,
      reasons: ['names "apply_vat" from the project'],
      sources: [{ path: 'tax.py', startLine: 1, endLine: 3, symbol: 'apply_vat' }],
    };
    await run(() => asks[0]!.resolve({ ...askResponse('It adds VAT.'), retrieval }));
    expect(byTestId('sources')?.querySelector('li')?.textContent).toBe('tax.py:1-3 apply_vat');
    expect(byTestId('sources')?.getAttribute('title')).toContain('apply_vat');
  });

  it('Stop cancels the answer and leaves the input usable', async () => {
    await renderApp();
    const textarea = byTestId<HTMLTextAreaElement>('chat-input')!;
    await typeInto(textarea, 'Long question');
    await press(textarea, { key: 'Enter' });
    await run(() => asks[0]!.hooks.onToken?.('Partial'));
    await run(() => byTestId('stop')?.click());
    expect(asks[0]!.hooks.signal?.aborted).toBe(true);
    expect(byTestId('stopped')).not.toBeNull();
    expect(byTestId('answer-text')?.textContent).toContain('Partial');
    await typeInto(textarea, 'Next question');
    expect(byTestId<HTMLButtonElement>('send')?.disabled).toBe(false);
  });

  it('shows an error with its message and fix', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'x');
    await run(() => byTestId('send')?.click());
    await run(() =>
      asks[0]!.reject(
        new NpllmError('QUERY_TOO_LONG', 'The question has 40000 characters; the limit is 32000.', { fix: 'Ask about a smaller piece of code.' }),
      ),
    );
    expect(byTestId('error')?.dataset['code']).toBe('QUERY_TOO_LONG');
    expect(byTestId('error-message')?.textContent).toBe('The question has 40000 characters; the limit is 32000.');
    expect(byTestId('error-title')?.textContent).toBe('The question is too long');
    expect(byTestId('error-fix')?.textContent).toContain('Ask about a smaller piece of code.');
  });

  it('renders fenced code as code blocks', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'x');
    await run(() => byTestId('send')?.click());
    await run(() => asks[0]!.hooks.onToken?.('Here:\n```python\nprint(1)\n```\nDone.'));
    const code = container.querySelector('pre[data-language="python"] code');
    expect(code?.textContent?.trim()).toBe('print(1)');
    expect(byTestId('code-language')?.textContent).toBe('python');
    expect(allByTestId('answer-text')[0]?.querySelectorAll('p')).toHaveLength(2);
  });

  it('focuses the question box when main asks (tray quick question)', async () => {
    let focus: () => void = () => undefined;
    const unsubscribe = vi.fn();
    await renderApp((listener) => {
      focus = listener;
      return unsubscribe;
    });
    const textarea = byTestId<HTMLTextAreaElement>('chat-input')!;
    textarea.blur();
    await run(() => focus());
    expect(document.activeElement).toBe(textarea);
    await run(() => root.unmount());
    expect(unsubscribe).toHaveBeenCalled();
    root = createRoot(container);
  });
});

describe('App: implicit feedback', () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  let writeText: ReturnType<typeof vi.fn<(text: string) => Promise<void>>>;

  beforeEach(() => {
    writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  });
  afterEach(() => {
    delete (navigator as { clipboard?: unknown }).clipboard;
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  async function askAndAnswer(question: string, answer: AskResponse, index = asks.length) {
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, question);
    await run(() => byTestId('send')?.click());
    await run(() => asks[index]!.resolve(answer));
  }

  const answerAt = (index: number) => allByTestId('answer')[index]!;
  const inAnswer = <T extends HTMLElement = HTMLElement>(index: number, id: string) => answerAt(index).querySelector<T>(`[data-testid="${id}"]`);

  it('Copy puts the answer on the clipboard and sends copied; buttons appear only on finished answers', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'Reverse a string?');
    await run(() => byTestId('send')?.click());
    await run(() => asks[0]!.hooks.onToken?.('Use'));
    expect(byTestId('copy-answer')).toBeNull();
    expect(byTestId('regenerate')).toBeNull();

    await run(() => asks[0]!.resolve(askResponse('Use `s[::-1]`.')));
    const copy = byTestId<HTMLButtonElement>('copy-answer')!;
    expect(copy.dataset['label']).toBe('Copy');
    await run(() => copy.click());
    expect(writeText).toHaveBeenCalledWith('Use `s[::-1]`.');
    expect(feedbackSent()).toEqual([{ eventId: expect.stringMatching(uuid), interactionId: 'i-Use `s[::-1]`.', type: 'copied' }]);
    expect(copy.dataset['state']).toBe('copied');
    expect(copy.getAttribute('aria-label')).toBe('Copied');
  });

  it('each code block has its own Copy, which copies just the code and sends copied too', async () => {
    await renderApp();
    await askAndAnswer('x', askResponse('Here:\n```python\nprint(1)\n```\nand\n```js\nconsole.log(2)\n```'));
    const buttons = allByTestId('copy-code');
    expect(buttons).toHaveLength(2);
    // The buttons' labels come from CSS: the answer's text is the answer only.
    // The buttons add no text: only the answer and each block's language label.
    expect(byTestId('answer-text')?.textContent?.replace(/\s+/g, '')).toBe('Here:pythonprint(1)andjsconsole.log(2)');
    await run(() => buttons[1]!.click());
    expect(writeText).toHaveBeenCalledWith('console.log(2)');
    expect(feedbackSent()).toEqual([{ eventId: expect.stringMatching(uuid), interactionId: expect.stringContaining('i-Here'), type: 'copied' }]);
  });

  it('a refused clipboard says so and sends nothing', async () => {
    writeText.mockRejectedValue(new DOMException('Denied', 'NotAllowedError'));
    await renderApp();
    await askAndAnswer('x', askResponse('answer'));
    await run(() => byTestId('copy-answer')?.click());
    expect(byTestId('copy-answer')?.dataset['state']).toBe('failed');
    expect(feedbackSent()).toEqual([]);
  });

  it('Regenerate asks again without the cache, naming the answer it replaces, and keeps the old answer one click away', async () => {
    await renderApp();
    await askAndAnswer('q1', askResponse('first'));
    await askAndAnswer('q2', askResponse('second'));
    // Only the latest answer can be regenerated: later turns were built on the earlier ones.
    expect(inAnswer(0, 'regenerate')).toBeNull();
    expect(inAnswer(1, 'regenerate')?.textContent).toBe('Regenerate');
    requests = [];

    await run(() => inAnswer(1, 'regenerate')?.click());
    // The engine records the regenerated event from `regenerates`: no feedback/record of its own.
    expect(requests).toEqual([
      {
        method: 'chat/ask',
        request: {
          question: 'q2',
          history: [
            { role: 'user', content: 'q1' },
            { role: 'assistant', content: 'first' },
          ],
          noCache: true,
          regenerates: 'i-second',
        },
      },
    ]);
    expect(allByTestId('answer')).toHaveLength(2);
    expect(answerAt(1).dataset).toMatchObject({ status: 'streaming', attempt: '2', attempts: '2' });
    expect(byTestId('regenerate')).toBeNull();

    await run(() => asks[2]!.resolve(askResponse('second, again')));
    expect(inAnswer(1, 'answer-text')?.textContent).toBe('second, again');
    expect(inAnswer(1, 'attempt-position')?.textContent).toBe('2 / 2');
    expect(inAnswer<HTMLButtonElement>(1, 'attempt-next')?.disabled).toBe(true);

    await run(() => inAnswer(1, 'attempt-previous')?.click());
    expect(inAnswer(1, 'answer-text')?.textContent).toBe('second');
    expect(inAnswer(1, 'attempt-position')?.textContent).toBe('1 / 2');
    await run(() => inAnswer(1, 'attempt-next')?.click());
    expect(inAnswer(1, 'answer-text')?.textContent).toBe('second, again');
  });

  it('a follow-up question names the answer above it (replyTo); after New chat, or a failed answer, replyTo is null', async () => {
    await renderApp();
    await askAndAnswer('q1', askResponse('a1'));
    expect(asks[0]!.request).toEqual({ question: 'q1', replyTo: null });
    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'and in Go?');
    await run(() => byTestId('send')?.click());
    expect(asks[1]!.request).toEqual({
      question: 'and in Go?',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
      ],
      replyTo: 'i-a1',
    });
    await run(() => asks[1]!.reject(new NpllmError('GENERATION_FAILED', 'boom')));

    await run(() => byTestId('regenerate')?.click());
    expect(byTestId('regenerate')).toBeNull();
    expect(asks[2]!.request).toEqual({
      question: 'and in Go?',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
      ],
      noCache: true,
      replyTo: null,
    });
    await run(() => asks[2]!.reject(new NpllmError('GENERATION_FAILED', 'boom')));

    await askAndAnswer('and in Rust?', askResponse('a3'));
    expect(asks[3]!.request).toMatchObject({ question: 'and in Rust?', replyTo: null });

    await run(() => byTestId('new-chat')?.click());
    await askAndAnswer('q1', askResponse('a1'));
    expect(asks[4]!.request).toEqual({ question: 'q1', replyTo: null });
    expect(feedbackSent()).toEqual([]);
  });

  it('sends the dwell of an answer read in view, once, when the next question is asked; and the rest on pagehide', async () => {
    // Chromium's observer, driven by hand: the first answer is on screen, then scrolled away.
    const observers: { callback: IntersectionObserverCallback; elements: Element[] }[] = [];
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        private readonly record: { callback: IntersectionObserverCallback; elements: Element[] };
        constructor(callback: IntersectionObserverCallback) {
          this.record = { callback, elements: [] };
          observers.push(this.record);
        }
        observe(element: Element) {
          this.record.elements.push(element);
        }
        disconnect() {
          this.record.elements = [];
        }
      },
    );
    const show = (element: Element, visible: boolean) => {
      for (const observer of observers.filter((each) => each.elements.includes(element))) {
        const entry = {
          isIntersecting: visible,
          intersectionRatio: visible ? 1 : 0,
          intersectionRect: { height: visible ? 200 : 0 },
          rootBounds: { height: 800 },
        };
        observer.callback([entry as unknown as IntersectionObserverEntry], {} as IntersectionObserver);
      }
    };
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
    let clock = 0;
    await renderApp(undefined, { dwell: { now: () => clock } });

    await typeInto(byTestId<HTMLTextAreaElement>('chat-input')!, 'q1');
    await run(() => byTestId('send')?.click());
    await run(() => show(answerAt(0), true));
    clock += 4000;
    await run(() => asks[0]!.resolve(askResponse('a1')));
    clock += 8000;
    await run(() => show(answerAt(0), false));
    clock += 30_000;
    await run(() => window.dispatchEvent(new Event('blur')));
    await run(() => show(answerAt(0), true));
    clock += 30_000; // on screen, but the window is not focused
    expect(feedbackSent()).toEqual([]);

    await run(() => window.dispatchEvent(new Event('focus')));
    await askAndAnswer('q2', askResponse('a2'));
    expect(feedbackSent()).toEqual([{ eventId: 'dwell-i-a1', interactionId: 'i-a1', type: 'dwell', value: 12 }]);

    await run(() => show(answerAt(1), true));
    clock += 2500;
    await run(() => window.dispatchEvent(new Event('pagehide')));
    expect(requests.filter((request) => request.method === 'feedback/record').slice(1)).toEqual([
      {
        method: 'feedback/record',
        request: { eventId: 'dwell-i-a2', interactionId: 'i-a2', type: 'dwell', value: 2.5 },
        options: { askForKey: false, keepalive: true },
      },
    ]);
    // A second pagehide (bfcache, then closed) repeats nothing.
    await run(() => window.dispatchEvent(new Event('pagehide')));
    expect(feedbackSent()).toHaveLength(2);
  });
});
