import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channels } from './bridge-protocol.js';
import { fakeElectron, FakeBrowserWindow, FakeEvent, FakeTray, forked } from './test/electron-mock.js';

vi.mock('electron', async () => (await import('./test/electron-mock.js')).fakeElectron);

const { app, ipcMain } = fakeElectron;

describe('electron main wiring', () => {
  beforeAll(async () => {
    await import('./index.js');
  });

  it('does nothing before the app is ready', () => {
    expect(forked).toHaveLength(0);
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('on ready forks the engine with the app data folder as NPLLM_HOME', async () => {
    await app.fireReady();
    expect(forked).toHaveLength(1);
    const [{ modulePath, options }] = forked as [(typeof forked)[number]];
    expect(modulePath).toMatch(/[/\\]utility\.js$/);
    expect(options).toMatchObject({ serviceName: 'npllm engine', env: { NPLLM_HOME: app.userData } });
  });

  it('opens an isolated, sandboxed window with the CommonJS preload', () => {
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const window = FakeBrowserWindow.instances[0]!;
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(window.options.webPreferences?.preload).toMatch(/[/\\]preload[/\\]index\.cjs$/);
    expect(window.loaded.url).toBe('app://npllm/index.html');
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
  });

  it('keeps the window on the app: no popups, no navigation', () => {
    const { webContents } = FakeBrowserWindow.instances[0]!;
    expect(webContents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const navigation = new FakeEvent();
    webContents.emit('will-navigate', navigation);
    expect(navigation.defaultPrevented).toBe(true);
  });

  it('relays npllm:invoke to the utility process and the reply back', async () => {
    const child = forked[0]!.child;
    const reply = ipcMain.invoke(channels.invoke, 'system/health', {});
    const request = child.lastRequest();
    expect(request).toMatchObject({ method: 'system/health', request: {} });
    child.reply({ id: request.id, result: { status: 'ok' } });
    expect(await reply).toEqual({ ok: true, result: { status: 'ok' } });

    const failing = ipcMain.invoke(channels.invoke, 'chat/ask', { question: '' });
    child.reply({ id: child.lastRequest().id, error: { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' } });
    expect(await failing).toMatchObject({ ok: false, error: { code: 'QUERY_EMPTY', fix: 'Type a question.' } });
  });

  it('hides the window on close, and the tray quick question brings it back focused on the input', () => {
    const window = FakeBrowserWindow.instances[0]!;
    window.close();
    expect(window.isDestroyed()).toBe(false);
    expect(window.visible).toBe(false);

    const tray = FakeTray.instances[0]!;
    expect(tray.menu.map((item) => item.label ?? item.type)).toEqual(['Quick question…', 'Show npllm', 'separator', 'Quit npllm']);
    tray.choose('Quick question…');
    expect(window.visible).toBe(true);
    expect(window.focused).toBe(true);
    expect(window.webContents.sent).toEqual([channels.focusInput]);
    expect(FakeBrowserWindow.instances).toHaveLength(1);
  });

  it('a second launch shows the existing window', () => {
    const window = FakeBrowserWindow.instances[0]!;
    window.hide();
    app.emit('second-instance');
    expect(window.visible).toBe(true);
    expect(FakeBrowserWindow.instances).toHaveLength(1);
  });

  it('quitting lets the engine close its database, then quits', async () => {
    const child = forked[0]!.child;
    FakeTray.instances[0]!.choose('Quit npllm');
    // The first will-quit is held back while the engine shuts down.
    expect(app.quitted).toBe(false);
    expect(FakeBrowserWindow.instances[0]!.isDestroyed()).toBe(true);
    expect(child.received.at(-1)).toEqual({ shutdown: true });

    child.emit('exit', 0);
    await vi.waitFor(() => expect(app.quitted).toBe(true));
    expect(app.quitCalls).toBe(2);
    expect(child.killed).toBe(false);
  });
});
