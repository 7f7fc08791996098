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

export function createMainWindow(paths: WindowPaths, devServerUrl: string | undefined): BrowserWindow {
  const window = new BrowserWindow({
    width: 960,
    height: 760,
    minWidth: 420,
    minHeight: 360,
    title: 'npllm',
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  const loading = window.loadURL(devServerUrl ?? appEntry);
  loading.catch((error: unknown) => process.stderr.write(`[npllm] cannot load the window: ${String(error)}\n`));
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
