import { describe, expect, it } from 'vitest';
import type { AskStreamEvent } from '../../shared/contract.js';
import { channels, type InvokeReply } from './bridge-protocol.js';
import { EngineClient } from './engine-client.js';
import { registerIpc } from './ipc.js';
import { FakeIpcMain, FakePortMain, FakeUtilityProcess } from './test/fakes.js';

function setup() {
  const child = new FakeUtilityProcess();
  const ipcMain = new FakeIpcMain();
  registerIpc(ipcMain, new EngineClient(() => child), (url) => url.startsWith('app://npllm/'));
  return { child, ipcMain };
}

describe('registerIpc: npllm:invoke', () => {
  it('forwards the request to the utility process and returns its result', async () => {
    const { child, ipcMain } = setup();
    const reply = ipcMain.invoke(channels.invoke, 'interactions/get', { id: 'abc' });
    const request = child.lastRequest();
    expect(request).toMatchObject({ method: 'interactions/get', request: { id: 'abc' } });
    child.reply({ id: request.id, result: { id: 'abc', question: 'q' } });
    expect(await reply).toEqual({ ok: true, result: { id: 'abc', question: 'q' } });
  });

  it('returns engine failures as data, code and fix intact', async () => {
    const { child, ipcMain } = setup();
    const reply = ipcMain.invoke(channels.invoke, 'chat/ask', { question: '' });
    child.reply({
      id: child.lastRequest().id,
      error: { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' },
    });
    expect(await reply).toEqual({
      ok: false,
      error: { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' },
    } satisfies InvokeReply);
  });

  it('refuses a method outside the contract without bothering the engine', async () => {
    const { child, ipcMain } = setup();
    const reply = (await ipcMain.invoke(channels.invoke, 'fs/readFile', { path: '/etc/passwd' })) as InvokeReply;
    expect(reply).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', fix: expect.any(String) } });
    expect(child.received).toEqual([]);
  });

  it('reports a crashed engine as an error the renderer can show', async () => {
    const { child, ipcMain } = setup();
    const reply = ipcMain.invoke(channels.invoke, 'system/health', {});
    child.emit('exit', 1);
    expect(await reply).toMatchObject({ ok: false, error: { code: 'INTERNAL', fix: expect.any(String) } });
  });
});

describe('registerIpc: npllm:stream', () => {
  function startStream() {
    const { child, ipcMain } = setup();
    const port = new FakePortMain();
    ipcMain.postMessage(channels.stream, { method: 'chat/ask', request: { question: 'hi', source: 'desktop' } }, [port]);
    const request = child.lastRequest();
    return { child, port, id: request.id, request };
  }

  it('streams the answer from the utility process to the renderer port, then closes it', () => {
    const { child, port, id, request } = startStream();
    expect(port.started).toBe(true);
    expect(request).toMatchObject({ method: 'chat/ask', stream: true, request: { question: 'hi', source: 'desktop' } });

    const done = { type: 'done', result: { answer: 'Hello' } } as unknown as AskStreamEvent;
    child.reply({ id, event: { type: 'progress', progress: { task: 'model-load', label: 'Loading', fraction: 0.5, done: false } } });
    child.reply({ id, event: { type: 'token', text: 'Hello' } });
    child.reply({ id, event: done });
    expect(port.sent).toEqual([
      { type: 'progress', progress: { task: 'model-load', label: 'Loading', fraction: 0.5, done: false } },
      { type: 'token', text: 'Hello' },
      done,
    ]);
    expect(port.closed).toBe(true);
  });

  it('cancels generation when the renderer sends { cancel: true }', () => {
    const { child, port, id } = startStream();
    child.reply({ id, event: { type: 'token', text: 'Hel' } });
    port.deliver({ cancel: true });
    expect(child.received.at(-1)).toEqual({ id, cancel: true });
  });

  it('cancels generation when the renderer side goes away, but not after the answer ended', () => {
    const gone = startStream();
    gone.port.emit('close');
    expect(gone.child.received.at(-1)).toEqual({ id: gone.id, cancel: true });

    const finished = startStream();
    finished.child.reply({ id: finished.id, event: { type: 'error', error: { name: 'NpllmError', code: 'GENERATION_FAILED', message: 'boom' } } });
    finished.port.emit('close');
    expect(finished.child.received).toHaveLength(1);
  });
});
