/** Stand-ins for the Electron objects main talks to, for unit tests that cannot start Electron. */
import { EventEmitter } from 'node:events';
import type { EngineRequestMessage, FromEngineMessage } from '../../engine/utility.js';
import type { UtilityProcessLike } from '../engine-client.js';

/** A utility process that records what main sends; the test plays the engine. */
export class FakeUtilityProcess extends EventEmitter implements UtilityProcessLike {
  readonly received: unknown[] = [];
  killed = false;

  postMessage(message: unknown): void {
    this.received.push(structuredClone(message));
  }

  kill(): boolean {
    this.killed = true;
    return true;
  }

  /** A message from the engine. */
  reply(message: FromEngineMessage): void {
    this.emit('message', structuredClone(message));
  }

  lastRequest(): EngineRequestMessage {
    const requests = this.received.filter((message): message is EngineRequestMessage => typeof (message as { method?: unknown }).method === 'string');
    const last = requests.at(-1);
    if (!last) throw new Error('The engine received no request.');
    return last;
  }
}

/** Main's end of a MessageChannel the renderer transferred (Electron's MessagePortMain). */
export class FakePortMain extends EventEmitter {
  readonly sent: unknown[] = [];
  started = false;
  closed = false;

  postMessage(message: unknown): void {
    if (!this.closed) this.sent.push(structuredClone(message));
  }

  start(): void {
    this.started = true;
  }

  close(): void {
    this.closed = true;
  }

  /** A message from the renderer's end. */
  deliver(data: unknown): void {
    this.emit('message', { data, ports: [] });
  }
}

type Listener = (event: never, ...args: unknown[]) => unknown;

/** Who sent an IPC message: a frame (with its URL) and the web contents whose top frame is `mainFrame`. */
export interface FakeSender {
  senderFrame: { url: string } | null;
  sender: { mainFrame: { url: string } };
}

/** The app's own window, top frame: what a well-behaved renderer sends from. */
export function appSender(url = 'app://npllm/index.html'): FakeSender {
  const mainFrame = { url };
  return { senderFrame: mainFrame, sender: { mainFrame } };
}

/** ipcMain: records handlers so a test can call them the way a renderer's IPC would. */
export class FakeIpcMain {
  readonly handlers = new Map<string, Listener>();
  readonly listeners = new Map<string, Listener>();
  /** The sender of the next messages; the app's own page unless a test says otherwise. */
  from: FakeSender = appSender();

  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  on(channel: string, listener: Listener): this {
    this.listeners.set(channel, listener);
    return this;
  }

  /** What `ipcRenderer.invoke(channel, ...args)` does. */
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return structuredClone(await handler(this.from as never, ...args.map((arg) => structuredClone(arg))));
  }

  /** `ipcRenderer.invoke` from a given window's renderer (handlers that look at `event.sender`). */
  async invokeFrom(sender: unknown, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const senderFrame = (sender as { mainFrame?: { url: string } }).mainFrame ?? null;
    return structuredClone(await handler({ sender, senderFrame } as never, ...args.map((arg) => structuredClone(arg))));
  }

  /** What `ipcRenderer.send(channel, ...args)` does. */
  send(channel: string, ...args: unknown[]): void {
    const listener = this.listeners.get(channel);
    if (!listener) throw new Error(`No listener for '${channel}'`);
    listener(this.from as never, ...args.map((arg) => structuredClone(arg)));
  }

  /** What `ipcRenderer.postMessage(channel, message, [port])` does. */
  postMessage(channel: string, message: unknown, ports: FakePortMain[]): void {
    const listener = this.listeners.get(channel);
    if (!listener) throw new Error(`No listener for '${channel}'`);
    listener({ ...this.from, ports } as never, structuredClone(message));
  }
}
