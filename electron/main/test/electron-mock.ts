/**
 * A fake `electron` module for main-process tests (`vi.mock('electron', ...)`): the real one would
 * try to download Electron. It models what the wiring relies on: app lifecycle events and quit
 * sequence, windows, the tray menu, utility processes and ipcMain.
 */
import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';
import { FakeIpcMain, FakeUtilityProcess } from './fakes.js';

export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

class FakeApp extends EventEmitter {
  readonly userData = '/home/someone/.config/npllm';
  isPackaged = false;
  singleInstance = true;
  quitCalls = 0;
  quitted = false;
  private markReady!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  whenReady(): Promise<void> {
    return this.ready;
  }

  fireReady(): Promise<void> {
    this.markReady();
    return this.ready;
  }

  locale = 'en-US';

  getLocale(): string {
    return this.locale;
  }

  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`unexpected app.getPath(${name})`);
    return this.userData;
  }

  requestSingleInstanceLock(): boolean {
    return this.singleInstance;
  }

  /** Electron's order: before-quit, windows close, will-quit (preventable), then the app exits. */
  quit(): void {
    this.quitCalls++;
    this.emit('before-quit', new FakeEvent());
    for (const window of FakeBrowserWindow.instances) if (!window.isDestroyed()) window.close();
    const willQuit = new FakeEvent();
    this.emit('will-quit', willQuit);
    if (!willQuit.defaultPrevented) this.quitted = true;
  }
}

class FakeWebContents extends EventEmitter {
  readonly sent: string[] = [];
  /** Every message with its payload. */
  readonly messages: { channel: string; payload: unknown }[] = [];
  loading = false;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  /** The top frame, as IPC events name it (ipc.ts trusts only the top frame of the app's page). */
  readonly mainFrame = { url: 'app://npllm/index.html' };

  getURL(): string {
    return 'app://npllm/index.html';
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, payload?: unknown): void {
    this.sent.push(channel);
    this.messages.push({ channel, payload });
  }

  isLoading(): boolean {
    return this.loading;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static readonly instances: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  loaded: { file?: string; url?: string; search?: string } = {};
  visible = false;
  focused = false;
  private destroyed = false;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeBrowserWindow.instances.push(this);
  }

  loadFile(file: string, options?: { search?: string }): Promise<void> {
    this.loaded = { file, ...(options?.search ? { search: options.search } : {}) };
    return Promise.resolve();
  }

  static fromWebContents(webContents: unknown): FakeBrowserWindow | null {
    return FakeBrowserWindow.instances.find((window) => window.webContents === webContents) ?? null;
  }

  loadURL(url: string): Promise<void> {
    this.loaded = { url };
    return Promise.resolve();
  }

  show(): void {
    this.visible = true;
  }

  hide(): void {
    this.visible = false;
  }

  focus(): void {
    this.focused = true;
  }

  isMinimized(): boolean {
    return false;
  }

  restore(): void {
    this.visible = true;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  close(): void {
    const event = new FakeEvent();
    this.emit('close', event);
    if (!event.defaultPrevented) this.destroyed = true;
  }
}

export class FakeTray extends EventEmitter {
  static readonly instances: FakeTray[] = [];
  menu: MenuItemConstructorOptions[] = [];
  tooltip = '';

  constructor(readonly image: unknown) {
    super();
    FakeTray.instances.push(this);
  }

  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }

  setContextMenu(menu: MenuItemConstructorOptions[]): void {
    this.menu = menu;
  }

  /** Clicks the context-menu item with this label. */
  choose(label: string): void {
    const item = this.menu.find((entry) => entry.label === label);
    if (!item?.click) throw new Error(`no menu item "${label}"`);
    (item.click as () => void)();
  }
}

export const forked: { modulePath: string; options: unknown; child: FakeUtilityProcess }[] = [];

type PermissionRequest = (webContents: FakeWebContents, permission: string, callback: (granted: boolean) => void, details: { requestingUrl?: string }) => void;
type PermissionCheck = (webContents: FakeWebContents | null, permission: string, requestingOrigin: string) => boolean;

/** protocol, session and net: what the app registers, for tests to call as Chromium would. */
export const fakeProtocol = {
  privileged: [] as unknown[],
  handlers: new Map<string, (request: { url: string }) => Response | Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    this.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: { url: string }) => Response | Promise<Response>): void {
    this.handlers.set(scheme, handler);
  },
};

export const fakeSession = {
  requestHandler: null as PermissionRequest | null,
  checkHandler: null as PermissionCheck | null,
  setPermissionRequestHandler(handler: PermissionRequest): void {
    this.requestHandler = handler;
  },
  setPermissionCheckHandler(handler: PermissionCheck): void {
    this.checkHandler = handler;
  },
};

export const fetchedFiles: string[] = [];

/** Electron's globalShortcut: what is registered, and a way to press it. */
export class FakeGlobalShortcut {
  readonly registered = new Map<string, () => void>();
  /** Accelerators another application "owns": registering them fails. */
  readonly taken = new Set<string>();

  register(accelerator: string, callback: () => void): boolean {
    if (this.taken.has(accelerator)) return false;
    this.registered.set(accelerator, callback);
    return true;
  }

  unregister(accelerator: string): void {
    this.registered.delete(accelerator);
  }

  press(accelerator: string): void {
    const callback = this.registered.get(accelerator);
    if (!callback) throw new Error(`${accelerator} is not registered`);
    callback();
  }
}

/** The open dialog's answer for the next call, and the calls it got. */
export const dialogCalls: { owner: unknown; options: unknown }[] = [];
export const dialogAnswer = { canceled: false, filePaths: ['/home/someone/code/shop'] };

export const fakeElectron = {
  app: new FakeApp(),
  ipcMain: new FakeIpcMain(),
  BrowserWindow: FakeBrowserWindow,
  Tray: FakeTray,
  Menu: { buildFromTemplate: (template: MenuItemConstructorOptions[]) => template },
  protocol: fakeProtocol,
  session: { defaultSession: fakeSession },
  net: {
    fetch(url: string): Promise<Response> {
      fetchedFiles.push(url);
      return Promise.resolve(new Response('file', { status: 200 }));
    },
  },
  nativeImage: { createFromDataURL: (dataUrl: string) => ({ dataUrl, resize: (size: { width: number; height: number }) => ({ dataUrl, size }) }) },
  globalShortcut: new FakeGlobalShortcut(),
  dialog: {
    showOpenDialog(owner: unknown, options?: unknown): Promise<{ canceled: boolean; filePaths: string[] }> {
      dialogCalls.push(options === undefined ? { owner: null, options: owner } : { owner, options });
      return Promise.resolve({ ...dialogAnswer });
    },
  },
  utilityProcess: {
    fork(modulePath: string, _args: string[], options: unknown): FakeUtilityProcess {
      const child = new FakeUtilityProcess();
      forked.push({ modulePath, options, child });
      return child;
    },
  },
};
