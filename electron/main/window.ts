/**
 * The chat window. The renderer is untrusted web content as far as main is concerned: isolated
 * from the preload, sandboxed, no Node, and it cannot navigate away or open new windows.
 */
import { BrowserWindow } from 'electron';
import { appEntry } from './app-protocol.js';
import { channels } from './bridge-protocol.js';

export interface WindowPaths {
  /** Built preload (CommonJS: sandboxed preloads cannot be ES modules). */
  preload: string;
  /** Built renderer entry, served as app://npllm/index.html (app-protocol.ts). */
  renderer: string;
}

const webPreferences = (paths: WindowPaths) => ({ preload: paths.preload, contextIsolation: true, sandbox: true, nodeIntegration: false });

function lockDown(window: BrowserWindow, devServerUrl: string | undefined, view?: string): void {
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  const search = view ? `?view=${view}` : '';
  // The app's own origin (app-protocol.ts), never file://; the dev server only in development.
  const loading = window.loadURL(`${devServerUrl ?? appEntry}${search}`);
  loading.catch((error: unknown) => process.stderr.write(`[npllm] cannot load the window: ${String(error)}\n`));
}

export function createMainWindow(paths: WindowPaths, devServerUrl: string | undefined): BrowserWindow {
  const window = new BrowserWindow({
    width: 1180,
    height: 800,
    minWidth: 560,
    minHeight: 400,
    title: 'npllm',
    show: false,
    autoHideMenuBar: true,
    webPreferences: webPreferences(paths),
  });
  window.once('ready-to-show', () => window.show());
  lockDown(window, devServerUrl);
  return window;
}

/** The tray's quick question: small, above other windows, answering in place (the renderer's `?view=quick`). */
export function createQuickWindow(paths: WindowPaths, devServerUrl: string | undefined, title = 'npllm: quick question'): BrowserWindow {
  const window = new BrowserWindow({
    width: 520,
    height: 560,
    minWidth: 360,
    minHeight: 300,
    title,
    show: false,
    alwaysOnTop: true,
    skipTaskbar: true,
    autoHideMenuBar: true,
    webPreferences: webPreferences(paths),
  });
  lockDown(window, devServerUrl, 'quick');
  return window;
}

/** Brings the window forward with the cursor in the question box (the tray's quick question). */
export function focusQuestion(window: BrowserWindow): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
  const send = () => window.webContents.send(channels.focusInput);
  if (window.webContents.isLoading()) window.webContents.once('did-finish-load', send);
  else send();
}
