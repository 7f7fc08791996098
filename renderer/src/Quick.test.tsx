import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuickApp } from './Quick.js';
import { createChatStore, type ChatStore } from './store.js';
import { askResponse, healthyEngine } from './test/fixtures.js';
import type { Transport } from './transport.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
let store: ChatStore;
const asked: unknown[] = [];

beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  const transport: Transport = {
    kind: 'desktop',
    invoke: vi.fn((method: string) => Promise.resolve(method === 'system/health' ? healthyEngine : { items: [] })) as unknown as Transport['invoke'],
    stream: () => Promise.reject(new Error('no streams here')),
    ask: (request) => {
      asked.push(request);
      return Promise.resolve(askResponse('Use a list comprehension.'));
    },
  };
  store = createChatStore(transport, { project: '/home/someone/shop', dwell: { now: () => 0 } });
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

describe('the quick-question window', () => {
  it('answers in place in the current project, then opens the conversation in the main window', async () => {
    const openInMain = vi.fn();
    act(() => root.render(<QuickApp store={store} openInMain={openInMain} />));
    expect(container.querySelector('[data-testid="quick-window"]')?.textContent).toContain('shop');
    const button = container.querySelector<HTMLButtonElement>('[data-testid="open-in-main"]')!;
    expect(button.disabled).toBe(true);

    store.getState().setDraft('How do I flatten a list?');
    await act(() => store.getState().send());
    expect(asked.at(-1)).toMatchObject({
      question: 'How do I flatten a list?',
      project: '/home/someone/shop',
      conversationId: store.getState().conversationId,
    });
    expect(container.querySelector('[data-testid="answer"]')?.getAttribute('data-status')).toBe('done');

    act(() => button.click());
    expect(openInMain).toHaveBeenCalledWith(store.getState().conversationId);
  });

  it('follows the project the main window picks', () => {
    act(() => root.render(<QuickApp store={store} />));
    act(() => {
      window.dispatchEvent(new StorageEvent('storage', { key: 'npllm.project', newValue: '/home/someone/crm' }));
    });
    expect(store.getState().project).toBe('/home/someone/crm');
    expect(container.querySelector('[data-testid="quick-window"]')?.textContent).toContain('crm');
  });
});
