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

const fake = vi.hoisted(
  (): Omit<FakeRenderer, 'listeners'> & Partial<Pick<FakeRenderer, 'listeners'>> & { sent: unknown[][]; paths: Map<unknown, string> } => ({
    exposed: new Map(),
    invokeReply: null,
    invoked: [],
    posted: [],
    sent: [],
    paths: new Map(),
  }),
);

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const listeners = new Emitter();
  fake.listeners = listeners;
  return {
    webUtils: {
      getPathForFile: (file: unknown) => {
        const path = fake.paths.get(file);
        if (path === undefined) throw new Error('not a file on disk');
        return path;
      },
    },
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => fake.exposed.set(key, api) },
    ipcRenderer: {
      invoke: (...args: unknown[]) => {
        fake.invoked.push(args);
        return Promise.resolve(fake.invokeReply);
      },
      postMessage: (channel: string, message: unknown, ports: unknown[]) => fake.posted.push({ channel, message, ports }),
      send: (...args: unknown[]) => fake.sent.push(args),
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
    expect(Object.keys(npllm).sort()).toEqual([
      'invoke',
      'onEngineState',
      'onFocusInput',
      'onOpenConversation',
      'openInMain',
      'pathForFile',
      'pickFolder',
      'stream',
    ]);
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

  it('resolves a dropped folder to its path; a file not on disk has none', () => {
    const folder = { name: 'shop' } as unknown as File;
    fake.paths.set(folder, '/home/someone/code/shop');
    expect(npllm.pathForFile(folder)).toBe('/home/someone/code/shop');
    expect(npllm.pathForFile({ name: 'pasted.txt' } as unknown as File)).toBe('');
  });

  it('pickFolder asks main for the dialog and answers its folder, or null', async () => {
    fake.invokeReply = '/home/someone/code/shop';
    await expect(npllm.pickFolder()).resolves.toBe('/home/someone/code/shop');
    expect(fake.invoked.at(-1)).toEqual([channels.pickFolder]);
    fake.invokeReply = null;
    await expect(npllm.pickFolder()).resolves.toBeNull();
  });

  it("relays main's engine state and conversation requests, without the IPC event", () => {
    const states = vi.fn();
    const conversations = vi.fn();
    const stopStates = npllm.onEngineState(states);
    const stopConversations = npllm.onOpenConversation(conversations);
    fake.listeners?.emit(channels.engineState, { sender: 'main' }, { state: 'restarting', reason: 'crashed', exitCode: 1, restarts: 1 });
    fake.listeners?.emit(channels.openConversation, { sender: 'main' }, 'conv-1');
    fake.listeners?.emit(channels.openConversation, { sender: 'main' }, { not: 'an id' });
    stopStates();
    stopConversations();
    fake.listeners?.emit(channels.engineState, {}, { state: 'running', restarts: 1 });
    expect(states.mock.calls).toEqual([[{ state: 'restarting', reason: 'crashed', exitCode: 1, restarts: 1 }]]);
    expect(conversations.mock.calls).toEqual([['conv-1']]);
  });

  it('openInMain sends the conversation id to main', () => {
    npllm.openInMain('conv-9');
    npllm.openInMain(null);
    expect(fake.sent.slice(-2)).toEqual([
      [channels.openInMain, 'conv-9'],
      [channels.openInMain, null],
    ]);
  });
});
