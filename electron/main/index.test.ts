import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channels } from './bridge-protocol.js';
import { appSender } from './test/fakes.js';
import { dialogAnswer, dialogCalls, fakeElectron, FakeBrowserWindow, FakeEvent, FakeTray, forked } from './test/electron-mock.js';

vi.mock('electron', async () => (await import('./test/electron-mock.js')).fakeElectron);

const { app, ipcMain, globalShortcut } = fakeElectron;

/** The settings the engine answers settings/get and settings/update with, as far as main reads them. */
const settingsWith = (shortcut: string) => ({
  values: { model: {}, database: { url: null }, ui: { language: 'system', theme: 'system', shortcut } },
  saved: {},
  file: '',
  overridden: [],
  restartPending: false,
});

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
    child.reply({
      id: child.lastRequest().id,
      error: { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' },
    });
    expect(await failing).toMatchObject({ ok: false, error: { code: 'QUERY_EMPTY', fix: 'Type a question.' } });
  });

  it('registers the default quick-question shortcut, then the one the saved settings name', async () => {
    expect([...globalShortcut.registered.keys()]).toEqual(['CommandOrControl+Shift+Space']);
    const child = forked[0]!.child;
    const asked = child.received.find((message) => (message as { method?: string }).method === 'settings/get') as { id: number };
    expect(asked).toBeDefined();
    child.reply({ id: asked.id, result: settingsWith('Alt+Space') });
    await vi.waitFor(() => expect([...globalShortcut.registered.keys()]).toEqual(['Alt+Space']));
  });

  it('hides the window on close; the tray quick question opens a small always-on-top window focused on its input', () => {
    const window = FakeBrowserWindow.instances[0]!;
    window.close();
    expect(window.isDestroyed()).toBe(false);
    expect(window.visible).toBe(false);

    const tray = FakeTray.instances[0]!;
    expect(tray.menu.map((item) => item.label ?? item.type)).toEqual(['Quick question…', 'Show npllm', 'separator', 'Quit npllm']);
    tray.choose('Quick question…');
    expect(FakeBrowserWindow.instances).toHaveLength(2);
    const quick = FakeBrowserWindow.instances[1]!;
    expect(quick.options).toMatchObject({
      alwaysOnTop: true,
      skipTaskbar: true,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
    });
    expect(quick.loaded).toEqual({ url: 'app://npllm/index.html?view=quick' });
    quick.emit('ready-to-show');
    expect(quick.visible).toBe(true);
    expect(quick.focused).toBe(true);
    expect(quick.webContents.sent).toEqual([channels.focusInput]);
    expect(window.visible).toBe(false);
  });

  it('the global shortcut brings the same quick window back, and closing it only hides it', () => {
    const quick = FakeBrowserWindow.instances[1]!;
    quick.close();
    expect(quick.isDestroyed()).toBe(false);
    expect(quick.visible).toBe(false);
    globalShortcut.press('Alt+Space');
    expect(FakeBrowserWindow.instances).toHaveLength(2);
    expect(quick.visible).toBe(true);
    expect(quick.webContents.sent.at(-1)).toBe(channels.focusInput);
  });

  it('saving a new shortcut in the settings re-registers it; one the system refuses keeps the old one', async () => {
    const child = forked[0]!.child;
    const saved = ipcMain.invoke(channels.invoke, 'settings/update', { ui: { shortcut: 'Control+Alt+N' } });
    child.reply({ id: child.lastRequest().id, result: settingsWith('Control+Alt+N') });
    await saved;
    expect([...globalShortcut.registered.keys()]).toEqual(['Control+Alt+N']);

    globalShortcut.taken.add('Control+Q');
    const refused = ipcMain.invoke(channels.invoke, 'settings/update', { ui: { shortcut: 'Control+Q' } });
    child.reply({ id: child.lastRequest().id, result: settingsWith('Control+Q') });
    await refused;
    expect([...globalShortcut.registered.keys()]).toEqual(['Control+Alt+N']);
  });

  it('the tray speaks the language of the settings', async () => {
    const child = forked[0]!.child;
    const saved = ipcMain.invoke(channels.invoke, 'settings/update', { ui: { language: 'pt-BR' } });
    child.reply({
      id: child.lastRequest().id,
      result: {
        ...settingsWith('Control+Alt+N'),
        values: { ...settingsWith('Control+Alt+N').values, ui: { language: 'pt-BR', theme: 'system', shortcut: 'Control+Alt+N' } },
      },
    });
    await saved;
    const tray = FakeTray.instances[0]!;
    expect(tray.menu.map((item) => item.label ?? item.type)).toEqual(['Pergunta rápida…', 'Mostrar o npllm', 'separator', 'Sair do npllm']);
    expect(tray.tooltip).toContain('assistente de código');
    const english = ipcMain.invoke(channels.invoke, 'settings/update', { ui: { language: 'system' } });
    child.reply({ id: child.lastRequest().id, result: settingsWith('Control+Alt+N') });
    await english;
    expect(tray.menu[0]?.label).toBe('Quick question…');
  });

  it('"open in the main window" from the quick window shows the main window with that conversation', () => {
    const [window, quick] = FakeBrowserWindow.instances as [FakeBrowserWindow, FakeBrowserWindow];
    ipcMain.send(channels.openInMain, 'conv-123');
    expect(window.visible).toBe(true);
    expect(quick.visible).toBe(false);
    expect(window.webContents.messages.at(-1)).toEqual({ channel: channels.openConversation, payload: 'conv-123' });
    // Anything but a plain id opens the window without a conversation.
    ipcMain.send(channels.openInMain, '<script>');
    expect(window.webContents.messages.at(-1)).toEqual({ channel: channels.openConversation, payload: 'conv-123' });
  });

  it('the folder dialog is parented to the asking window and answers the folder, or null when cancelled', async () => {
    const window = FakeBrowserWindow.instances[0]!;
    expect(await ipcMain.invokeFrom(window.webContents, channels.pickFolder)).toBe('/home/someone/code/shop');
    expect(dialogCalls.at(-1)).toMatchObject({ owner: window, options: { properties: ['openDirectory'] } });
    dialogAnswer.canceled = true;
    expect(await ipcMain.invokeFrom(window.webContents, channels.pickFolder)).toBeNull();
    dialogAnswer.canceled = false;
  });

  it('refuses the folder dialog and "open in the main window" to a page that is not the app, or to a subframe', async () => {
    const window = FakeBrowserWindow.instances[0]!;
    const calls = dialogCalls.length;
    const messages = window.webContents.messages.length;
    // The app's window after it navigated elsewhere (will-navigate is blocked, but the check does not rely on it).
    const foreign = Object.assign(Object.create(window.webContents) as object, { mainFrame: { url: 'https://evil.example/' } });
    expect(await ipcMain.invokeFrom(foreign, channels.pickFolder)).toBeNull();
    ipcMain.from = appSender('https://evil.example/');
    ipcMain.send(channels.openInMain, 'conv-999');
    ipcMain.from = { senderFrame: { url: 'app://npllm/index.html' }, sender: { mainFrame: { url: 'app://npllm/index.html' } } };
    ipcMain.send(channels.openInMain, 'conv-999');
    ipcMain.from = appSender();
    expect(dialogCalls.length).toBe(calls);
    expect(window.webContents.messages.length).toBe(messages);
  });

  it('a crashed engine is restarted at once and every window is told', async () => {
    const child = forked[0]!.child;
    const pending = ipcMain.invoke(channels.invoke, 'system/health', {});
    child.emit('exit', 139);
    expect(await pending).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringContaining('exit code 139') } });
    expect(forked).toHaveLength(2);
    const [window, quick] = FakeBrowserWindow.instances as [FakeBrowserWindow, FakeBrowserWindow];
    for (const each of [window, quick]) {
      expect(each.webContents.messages.filter((message) => message.channel === channels.engineState).map((message) => message.payload)).toEqual([
        { state: 'restarting', reason: 'crashed', exitCode: 139, restarts: 1 },
        { state: 'running', reason: 'crashed', exitCode: 139, restarts: 1 },
      ]);
    }
    // The new engine answers.
    const next = ipcMain.invoke(channels.invoke, 'system/health', {});
    const fresh = forked[1]!.child;
    fresh.reply({ id: fresh.lastRequest().id, result: { status: 'ok' } });
    expect(await next).toEqual({ ok: true, result: { status: 'ok' } });
  });

  it('a second launch shows the existing window', () => {
    const window = FakeBrowserWindow.instances[0]!;
    window.hide();
    app.emit('second-instance');
    expect(window.visible).toBe(true);
    expect(FakeBrowserWindow.instances).toHaveLength(2);
  });

  it('quitting lets the engine close its database, then quits', async () => {
    const child = forked.at(-1)!.child;
    FakeTray.instances[0]!.choose('Quit npllm');
    // The first will-quit is held back while the engine shuts down.
    expect(app.quitted).toBe(false);
    expect(FakeBrowserWindow.instances[0]!.isDestroyed()).toBe(true);
    expect(globalShortcut.registered.size).toBe(0);
    expect(child.received.at(-1)).toEqual({ shutdown: true });

    child.emit('exit', 0);
    await vi.waitFor(() => expect(app.quitted).toBe(true));
    expect(app.quitCalls).toBe(2);
    expect(child.killed).toBe(false);
  });
});
