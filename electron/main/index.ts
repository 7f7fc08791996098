/**
 * Electron's main process: wiring only. The engine (model, database) lives in a utility process,
 * the UI in a sandboxed renderer; main starts both, relays IPC between them, and owns the window,
 * the tray and the app's lifetime.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, ipcMain, session, utilityProcess, type BrowserWindow, type Tray } from 'electron';
import { isAppUrl, registerAppScheme, serveRenderer } from './app-protocol.js';
import { EngineClient } from './engine-client.js';
import { registerIpc } from './ipc.js';
import { restrictPermissions } from './permissions.js';
import { createTray } from './tray.js';
import { createMainWindow, focusQuestion } from './window.js';

/** Built layout (electron.vite.config.ts): out/main/{index,utility}.js, out/preload/index.cjs, out/renderer/. */
const built = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const paths = {
  engine: built('./utility.js'),
  preload: built('../preload/index.cjs'),
  renderer: built('../renderer/index.html'),
};

/** How long the engine gets to close its database on quit before it is killed. */
const shutdownTimeoutMs = 5_000;

/** electron-vite's dev server, in development only: a packaged app never loads a page named by its environment. */
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const isApp = (url: string) => isAppUrl(url, devServerUrl);

function runDesktopApp(): void {
  const engine = new EngineClient(() =>
    utilityProcess.fork(paths.engine, [], {
      serviceName: 'npllm engine',
      // The engine keeps its models, database and logs in the app's data folder.
      env: { ...process.env, NPLLM_HOME: app.getPath('userData') },
      stdio: 'inherit',
    }),
  );
  let window: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let quitting = false;

  const showWindow = (): BrowserWindow => {
    if (!window || window.isDestroyed()) {
      const created = createMainWindow(paths, devServerUrl);
      // Closing hides to the tray; the engine stays warm for the next question.
      created.on('close', (event) => {
        if (quitting || !tray) return;
        event.preventDefault();
        created.hide();
      });
      window = created;
      return created;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return window;
  };

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (event) => {
    if (!engine.running) return;
    event.preventDefault();
    void engine.shutdown(shutdownTimeoutMs).then(() => app.quit());
  });

  void app.whenReady().then(() => {
    serveRenderer(dirname(paths.renderer));
    restrictPermissions(session.defaultSession, isApp);
    engine.start();
    registerIpc(ipcMain, engine, isApp);
    tray = createTray({
      quickQuestion: () => focusQuestion(showWindow()),
      showWindow: () => showWindow(),
      quit: () => app.quit(),
    });
    showWindow();
  });
}

// Before the app is ready, as Electron requires of privileged schemes.
registerAppScheme();
// A second instance would fight the first over the embedded database's lock: hand over instead.
if (app.requestSingleInstanceLock()) runDesktopApp();
else app.quit();
