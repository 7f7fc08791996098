import { EventEmitter } from 'node:events';
import type { MessagePort as NodeMessagePort } from 'node:worker_threads';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AskStreamEvent } from '../../shared/contract.js';
import { channels, type InvokeReply } from '../main/bridge-protocol.js';
import type { NpllmBridge } from '../../shared/bridge.js';

interface FakeRenderer {
  exposed: Map<string, unknown>;
  invokeReply: unknown;
  invoked: unknown[][];
  posted: { channel: string; message: unknown; ports: unknown[] }[];
  listeners: EventEmitter;
}

const fake = vi.hoisted((): Omit<FakeRenderer, 'listeners'> & Partial<Pick<FakeRenderer, 'listeners'>> => ({ exposed: new Map(), invokeReply: null, invoked: [], posted: [] }));

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const listeners = new Emitter();
  fake.listeners = listeners;
  return {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => fake.exposed.set(key, api) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        fake.invoked.push(args);
        return Promise.resolve(fake.invokeReply);
      },
      postMessage: (channel: string, message: unknown, ports: unknown[]) => fake.posted.push({ channel, message, ports }),
      on: (channel: string, listener: () => void) => listeners.on(channel, listener),
      off: (channel: string, listener: () => void) => listeners.off(channel, listener),
    },
  };
});

describe('preload bridge (window.npllm)', () => {
  let npllm: NpllmBridge;

  beforeAll(async () => {
    await import('./index.js');
    npllm = fake.exposed.get('npllm') as NpllmBridge;
  });

  it('exposes exactly the contract API', () => {
    expect([...fake.exposed.keys()]).toEqual(['npllm']);
    expect(Object.keys(npllm).sort()).toEqual(['invoke', 'onFocusInput', 'stream']);
  });

  it('invoke sends the method and request on npllm:invoke and unwraps the result', async () => {
    fake.invokeReply = { ok: true, result: { items: [] } } satisfies InvokeReply;
    await expect(npllm.invoke('interactions/list', { limit: 3 })).resolves.toEqual({ items: [] });
    expect(fake.invoked.at(-1)).toEqual([channels.invoke, 'interactions/list', { limit: 3 }]);
  });

  it('invoke rejects with the serialized error, so code and fix survive contextBridge', async () => {
    const error = { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' } as const;
    fake.invokeReply = { ok: false, error } satisfies InvokeReply;
    await expect(npllm.invoke('chat/ask', { question: '' })).rejects.toEqual(error);
  });

  it('stream hands main a port and relays its events until the end', async () => {
    const events: AskStreamEvent[] = [];
    const received = new Promise<void>((resolve) =>
      npllm.stream('chat/ask', { question: 'hi' }, (event) => {
        events.push(event);
        if (event.type === 'done') resolve();
      }),
    );
    const { channel, message, ports } = fake.posted.at(-1)!;
    expect({ channel, message }).toEqual({ channel: channels.stream, message: { method: 'chat/ask', request: { question: 'hi' } } });
    const mainEnd = ports[0] as NodeMessagePort;
    mainEnd.postMessage({ type: 'token', text: 'Hi' });
    mainEnd.postMessage({ type: 'done', result: { answer: 'Hi' } });
    await received;
    expect(events.map((event) => event.type)).toEqual(['token', 'done']);
    mainEnd.close();
  });

  it('cancel() tells main on the port', async () => {
    const stream = npllm.stream('chat/ask', { question: 'hi' }, () => undefined);
    const mainEnd = fake.posted.at(-1)!.ports[0] as NodeMessagePort;
    const cancel = new Promise<unknown>((resolve) => mainEnd.once('message', resolve));
    stream.cancel();
    expect(await cancel).toEqual({ cancel: true });
    mainEnd.close();
  });

  it('onFocusInput subscribes to main and returns an unsubscribe', () => {
    const listener = vi.fn();
    const unsubscribe = npllm.onFocusInput(listener);
    fake.listeners?.emit(channels.focusInput, {});
    unsubscribe();
    fake.listeners?.emit(channels.focusInput, {});
    expect(listener).toHaveBeenCalledOnce();
  });
});
