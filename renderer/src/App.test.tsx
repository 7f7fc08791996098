import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AskRequest, AskResponse } from '../../shared/contract.js';
import { cancelled, NpllmError } from '../../shared/errors.js';
import { App } from './App.js';
import { createChatStore } from './store.js';
import { askResponse, healthyEngine as health } from './test-fixtures.js';
import type { AskHooks, Transport } from './transport.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
let asks: { request: AskRequest; hooks: AskHooks; resolve: (result: AskResponse) => void; reject: (error: unknown) => void }[];

beforeEach(() => {
  asks = [];
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(async () => {
  await run(() => root.unmount());
  container.remove();
});

async function renderApp(focusRequests?: (listener: () => void) => () => void) {
  const transport: Transport = {
    kind: 'http',
    invoke: vi.fn(() => Promise.resolve(health)),
    ask: (request, hooks = {}) =>
      new Promise((resolve, reject) => {
        asks.push({ request, hooks, resolve, reject });
        hooks.signal?.addEventListener('abort', () => reject(cancelled()));
      }),
  };
  await run(() => root.render(<App store={createChatStore(transport)} onFocusRequest={focusRequests} />));
}

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
    const textarea = byTestId<HTMLTextAreaElement>('question')!;
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
    await typeInto(byTestId<HTMLTextAreaElement>('question')!, 'Reverse a string?');
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
    expect(byTestId('answer-sources')).toBeNull();
  });

  it('lists the project code an answer was given, with the gate\'s reasons', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('question')!, 'What does `apply_vat` do?');
    await run(() => byTestId('send')?.click());
    const retrieval = { used: true, reasons: ['names "apply_vat" from the project'], sources: [{ path: 'tax.py', startLine: 1, endLine: 3, symbol: 'apply_vat' }] };
    await run(() => asks[0]!.resolve({ ...askResponse('It adds VAT.'), retrieval }));
    expect(byTestId('answer-sources')?.textContent).toBe('tax.py:1-3 apply_vat');
    expect(byTestId('answer-sources')?.getAttribute('title')).toContain('apply_vat');
  });

  it('Stop cancels the answer and leaves the input usable', async () => {
    await renderApp();
    const textarea = byTestId<HTMLTextAreaElement>('question')!;
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
    await typeInto(byTestId<HTMLTextAreaElement>('question')!, 'x');
    await run(() => byTestId('send')?.click());
    await run(() => asks[0]!.reject(new NpllmError('QUERY_TOO_LONG', 'The question has 40000 characters; the limit is 32000.', { fix: 'Ask about a smaller piece of code.' })));
    expect(byTestId('error')?.dataset['code']).toBe('QUERY_TOO_LONG');
    expect(byTestId('error-message')?.textContent).toBe('The question has 40000 characters; the limit is 32000.');
    expect(byTestId('error-fix')?.textContent).toContain('Ask about a smaller piece of code.');
  });

  it('renders fenced code as code blocks', async () => {
    await renderApp();
    await typeInto(byTestId<HTMLTextAreaElement>('question')!, 'x');
    await run(() => byTestId('send')?.click());
    await run(() => asks[0]!.hooks.onToken?.('Here:\n```python\nprint(1)\n```\nDone.'));
    const code = container.querySelector('pre[data-language="python"] code');
    expect(code?.textContent).toBe('print(1)');
    expect(allByTestId('answer-text')[0]?.querySelectorAll('p')).toHaveLength(2);
  });

  it('focuses the question box when main asks (tray quick question)', async () => {
    let focus: () => void = () => undefined;
    const unsubscribe = vi.fn();
    await renderApp((listener) => {
      focus = listener;
      return unsubscribe;
    });
    const textarea = byTestId<HTMLTextAreaElement>('question')!;
    textarea.blur();
    await run(() => focus());
    expect(document.activeElement).toBe(textarea);
    await run(() => root.unmount());
    expect(unsubscribe).toHaveBeenCalled();
    root = createRoot(container);
  });
});
