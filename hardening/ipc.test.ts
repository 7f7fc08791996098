/**
 * Hostile messages over the desktop's two IPC hops: the renderer → main (`ipcMain`, with the
 * sender frame checked) and main → the engine's utility port (the dispatcher, as the `desktop`
 * caller held to the allowed roots), with a real engine on PGlite. Each case names its error code.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channels, type InvokeReply } from '../electron/main/bridge-protocol.js';
import { EngineClient } from '../electron/main/engine-client.js';
import { registerIpc } from '../electron/main/ipc.js';
import { isAppUrl } from '../electron/main/app-protocol.js';
import { appSender, FakeIpcMain, FakePortMain, FakeUtilityProcess, type FakeSender } from '../electron/main/test/fakes.js';
import { Engine } from '../electron/engine/engine.js';
import { listInteractions } from '../electron/engine/data-collection/interactions.js';
import { FakeParentPort } from '../electron/engine/test/fake-parent-port.js';
import { tempHome, testConfig, type TempHome } from '../electron/engine/test/support.js';
import { serveEngineOverPort, type EnginePortServer } from '../electron/engine/utility.js';

// main's modules import electron, whose real package would try to download the binary.
vi.mock('electron', async () => (await import('../electron/main/test/electron-mock.js')).fakeElectron);

let home: TempHome;
let port: FakeParentPort;
let server: EnginePortServer;
let engine: Engine;
let nextId = 1;

beforeAll(async () => {
  home = tempHome('npllm-hardening-ipc-');
  mkdirSync(join(home.home, 'shop'));
  writeFileSync(join(home.home, 'shop', 'app.py'), 'print("hi")\n');
  symlinkSync('/etc', join(home.home, 'etc-link'));
  const opened = Engine.open(testConfig(home.home, { rag: { allowedRoots: [home.home] } }));
  port = new FakeParentPort();
  server = serveEngineOverPort(port, opened, { onShutdown: () => undefined, warn: () => undefined });
  engine = await opened;
});

afterAll(async () => {
  await server?.shutdown();
  home?.cleanup();
});

/** One request over the utility port; the code of the error that ends it (or null). */
async function engineCall(method: string, request: unknown, stream = false): Promise<string | null> {
  const id = nextId++;
  port.deliver({ id, method, request, ...(stream ? { stream: true } : {}) });
  const end = await port.end(id);
  if ('error' in end) return end.error.code;
  if ('event' in end && end.event.type === 'error') return end.event.error.code;
  return null;
}

const utilityCases: [name: string, method: string, request: () => unknown, code: string, stream?: boolean][] = [
  ['a method outside the contract', 'fs/readFile', () => ({ path: '/etc/passwd' }), 'NOT_FOUND'],
  ['a prototype key as a method', '__proto__', () => ({}), 'NOT_FOUND'],
  ['a NUL in a question', 'chat/ask', () => ({ question: 'a\u0000b' }), 'QUERY_INVALID'],
  ['a NUL in a streamed question', 'chat/ask', () => ({ question: 'a\u0000b' }), 'QUERY_INVALID', true],
  ['a lone surrogate in the history', 'chat/ask', () => ({ question: 'and?', history: [{ role: 'assistant', content: '\udc00' }] }), 'QUERY_INVALID'],
  ['an unknown field', 'chat/ask', () => ({ question: 'hi', temperature: 2 }), 'REQUEST_INVALID'],
  ['a question that is not a string', 'chat/ask', () => ({ question: { toString: 'x' } }), 'REQUEST_INVALID'],
  ['a request that is not an object', 'interactions/list', () => 'limit=5', 'REQUEST_INVALID'],
  ['indexing /etc from the window', 'rag/index', () => ({ path: '/etc' }), 'REQUEST_INVALID', true],
  ['indexing a link to /etc inside the allowed root', 'rag/index', () => ({ path: join(home.home, 'etc-link') }), 'REQUEST_INVALID'],
  ['asking about /root', 'chat/ask', () => ({ question: 'what is here?', project: '/root' }), 'REQUEST_INVALID'],
  ['confirming a context for /usr', 'context/confirm', () => ({ path: '/usr', stacks: [] }), 'REQUEST_INVALID'],
  ['an export written where the window chooses', 'data/export', () => ({ project: join(home.home, 'shop'), out: '/tmp/owned.jsonl' }), 'REQUEST_INVALID'],
  ['a follow-up event forged by the window', 'feedback/record', () => ({ interactionId: 'x', type: 'follow-up' }), 'REQUEST_INVALID'],
  ['a dwell of a year', 'feedback/record', () => ({ interactionId: 'x', type: 'dwell', value: 31_536_000 }), 'REQUEST_INVALID'],
  ['a list of half a million', 'interactions/list', () => ({ limit: 500_000 }), 'REQUEST_INVALID'],
  ['a NUL in a path', 'context/detect', () => ({ path: '/tmp\u0000/etc' }), 'REQUEST_INVALID'],
];

describe('IPC: the utility port (real engine)', () => {
  it.each(utilityCases)('%s (%s) → %s', async (_name, method, request, code, stream) => {
    expect(await engineCall(method, request(), stream)).toBe(code);
  });

  it('a message without a usable id is dropped, and the port keeps serving', async () => {
    port.deliver({ id: 'x', method: 'system/health', request: {} });
    port.deliver(null);
    port.deliver({ id: 1.5, method: 'system/health' });
    expect(await engineCall('system/health', {})).toBeNull();
  });

  it('nothing the rejected requests carried was recorded', async () => {
    expect(await listInteractions(engine.database.db, { limit: 50 })).toEqual([]);
  });
});

describe("IPC: main answers only the app's own page", () => {
  function setup(isPackagedDevServer?: string) {
    const child = new FakeUtilityProcess();
    const ipcMain = new FakeIpcMain();
    registerIpc(ipcMain, new EngineClient(() => child), (url) => isAppUrl(url, isPackagedDevServer));
    return { child, ipcMain };
  }
  const subframe = (): FakeSender => ({ senderFrame: { url: 'app://npllm/index.html' }, sender: { mainFrame: { url: 'app://npllm/index.html' } } });
  const senders: [name: string, from: () => FakeSender][] = [
    ['a page the window navigated to', () => appSender('https://evil.example/')],
    ['a file:// page', () => appSender('file:///home/someone/Downloads/page.html')],
    ['a subframe of the app (an iframe in an answer)', subframe],
    ['a frame already gone', () => ({ senderFrame: null, sender: { mainFrame: { url: 'app://npllm/index.html' } } })],
    ['another host of the app scheme', () => appSender('app://evil/index.html')],
    ['a dev server nobody started', () => appSender('http://localhost:5173/')],
  ];

  it.each(senders)('invoke from %s → FORBIDDEN_ORIGIN, the engine never asked', async (_name, from) => {
    const { child, ipcMain } = setup();
    ipcMain.from = from();
    const reply = (await ipcMain.invoke(channels.invoke, 'interactions/list', {})) as InvokeReply;
    expect(reply).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_ORIGIN' } });
    expect(child.received).toEqual([]);
  });

  it.each(senders)('a stream from %s → an error event FORBIDDEN_ORIGIN, the engine never asked', (_name, from) => {
    const { child, ipcMain } = setup();
    ipcMain.from = from();
    const stream = new FakePortMain();
    ipcMain.postMessage(channels.stream, { method: 'chat/ask', request: { question: 'hi' } }, [stream]);
    expect(stream.sent).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'FORBIDDEN_ORIGIN' }) })]);
    expect(stream.closed).toBe(true);
    expect(child.received).toEqual([]);
  });

  it('from the app itself: a method outside the contract → NOT_FOUND; a stream of a method that does not stream → NOT_FOUND', async () => {
    const { child, ipcMain } = setup();
    expect(await ipcMain.invoke(channels.invoke, 'shell/openExternal', { url: 'file:///etc/passwd' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const stream = new FakePortMain();
    ipcMain.postMessage(channels.stream, { method: 'interactions/list', request: {} }, [stream]);
    expect(stream.sent).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    expect(child.received).toEqual([]);
  });

  it('the dev server is trusted only when development named it', async () => {
    const { child, ipcMain } = setup('http://localhost:5173');
    ipcMain.from = appSender('http://localhost:5173/');
    const reply = ipcMain.invoke(channels.invoke, 'system/health', {});
    child.reply({ id: child.lastRequest().id, result: { status: 'ok' } });
    expect(await reply).toEqual({ ok: true, result: { status: 'ok' } });
  });
});
