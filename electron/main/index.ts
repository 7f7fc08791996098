/**
 * Electron's main process: wiring only. The engine (model, database) lives in a utility process,
 * the UI in sandboxed renderers; main starts them, relays IPC between them, restarts the engine
 * when it stops, and owns the windows (main and quick question), the tray, the global shortcut,
 * the folder dialog and the app's lifetime.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, globalShortcut, ipcMain, session, utilityProcess, type Tray } from 'electron';
import type { EngineProcessState } from '../../shared/bridge.js';
import type { Settings } from '../../shared/contract.js';
import { isAppUrl, registerAppScheme, serveRenderer } from './app-protocol.js';
import { channels } from './bridge-protocol.js';
import { chosenFolder, registerDesktopIpc } from './desktop-ipc.js';
import { EngineClient } from './engine-client.js';
import { engineEnvironment } from './engine-env.js';
import { registerIpc } from './ipc.js';
import { restrictPermissions } from './permissions.js';
import { QuickShortcut } from './shortcut.js';
import { desktopLabels } from './labels.js';
import { createTray, labelTray, type TrayActions } from './tray.js';
import { createMainWindow, createQuickWindow, focusQuestion } from './window.js';

/** Built layout (electron.vite.config.ts): out/main/{index,utility}.js, out/preload/index.cjs, out/renderer/. */
const built = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const paths = { engine: built('./utility.js'), preload: built('../preload/index.cjs'), renderer: built('../renderer/index.html') };

/** How long the engine gets to close its database on quit before it is killed. */
const shutdownTimeoutMs = 5_000;
/** Used until the engine tells the saved one (ui.shortcut). */
const defaultShortcut = 'CommandOrControl+Shift+Space';

/** electron-vite's dev server, in development only: a packaged app never loads a page named by its environment. */
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const isApp = (url: string) => isAppUrl(url, devServerUrl);

function runDesktopApp(): void {
  let window: BrowserWindow | null = null;
  let quick: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let quitting = false;
  let engineState: EngineProcessState | null = null;
  /** In the system's language until the engine tells the saved one. */
  let labels = desktopLabels(null, app.getLocale());

  const everyWindow = () => [window, quick].filter((each): each is BrowserWindow => each !== null && !each.isDestroyed());
  const engine = new EngineClient(
    () =>
      utilityProcess.fork(paths.engine, [], {
        serviceName: 'npllm engine',
        env: engineEnvironment({
          env: process.env,
          userData: app.getPath('userData'),
          packaged: app.isPackaged,
          resourcesPath: process.resourcesPath,
          platform: process.platform,
        }),
        stdio: 'inherit',
      }),
    {
      onState: (state) => {
        engineState = state;
        for (const each of everyWindow()) each.webContents.send(channels.engineState, state);
      },
    },
  );

  /** Closing hides to the tray; the engine stays warm for the next question. */
  const hideOnClose = (created: BrowserWindow) =>
    created.on('close', (event) => {
      if (quitting || !tray) return;
      event.preventDefault();
      created.hide();
    });
  /** A window loaded after a restart still learns about it. */
  const tellEngineState = (created: BrowserWindow) =>
    created.webContents.on('did-finish-load', () => engineState && created.webContents.send(channels.engineState, engineState));

  const showWindow = (): BrowserWindow => {
    if (!window || window.isDestroyed()) {
      const created = createMainWindow(paths, devServerUrl);
      hideOnClose(created);
      tellEngineState(created);
      window = created;
      return created;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return window;
  };

  const showQuick = (): void => {
    if (!quick || quick.isDestroyed()) {
      const created = createQuickWindow(paths, devServerUrl, labels.quickTitle);
      hideOnClose(created);
      tellEngineState(created);
      created.once('ready-to-show', () => focusQuestion(created));
      quick = created;
      return;
    }
    focusQuestion(quick);
  };

  const shortcut = new QuickShortcut(globalShortcut, showQuick);
  const trayActions: TrayActions = { quickQuestion: () => showQuick(), showWindow: () => showWindow(), quit: () => app.quit() };
  /** What main itself follows of the settings: the shortcut and the language of its own words. */
  const applySettings = (settings: Settings) => {
    shortcut.set(settings.values.ui.shortcut);
    labels = desktopLabels(settings.values.ui.language, app.getLocale());
    if (tray) labelTray(tray, trayActions, labels);
  };

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (event) => {
    shortcut.dispose();
    if (!engine.running) return;
    event.preventDefault();
    void engine.shutdown(shutdownTimeoutMs).then(() => app.quit());
  });

  void app.whenReady().then(() => {
    serveRenderer(dirname(paths.renderer));
    restrictPermissions(session.defaultSession, isApp);
    engine.start();
    registerIpc(ipcMain, engine, isApp, { onAnswered: (method, result) => method === 'settings/update' && applySettings(result as Settings) });
    registerDesktopIpc(
      ipcMain,
      {
        pickFolder: async (sender) => {
          const owner = BrowserWindow.fromWebContents(sender);
          const options = { properties: ['openDirectory' as const], title: labels.openFolder };
          return chosenFolder(owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options));
        },
        openInMain: (conversationId) => {
          const main = showWindow();
          quick?.hide();
          if (!conversationId) return;
          const send = () => main.webContents.send(channels.openConversation, conversationId);
          if (main.webContents.isLoading()) main.webContents.once('did-finish-load', send);
          else send();
        },
      },
      isApp,
    );
    tray = createTray(trayActions, labels);
    shortcut.set(defaultShortcut);
    engine.invoke('settings/get', {}).then(applySettings, () => undefined);
    showWindow();
  });
}

// Before the app is ready, as Electron requires of privileged schemes.
registerAppScheme();
// A second instance would fight the first over the embedded database's lock: hand over instead.
if (app.requestSingleInstanceLock()) runDesktopApp();
else app.quit();
