/**
 * Entry of Electron's utility process: the desktop app's engine runs here, off the main process,
 * so generation and database work never stall window management. It speaks the contract in
 * shared/contract.ts over `process.parentPort`; electron/main only relays.
 *
 * Protocol (main → engine):
 *   { id, method, request, stream? }  run a contract method; with `stream` (methods that stream:
 *                                     chat/ask, rag/index, learning/consolidate, models/pull)
 *                                     its events arrive as messages, ending with done or error
 *   { id, cancel: true }              abort that request
 *   { shutdown: true }                finish: cancel everything, close the engine, exit
 * Protocol (engine → main):
 *   { id, result } | { id, error }    the end of a plain request
 *   { id, event }                     a stream event; `done` or `error` ends the stream
 *
 * Electron is never imported here (the engine also runs in the CLI and the server); the port is
 * typed by the few members this file uses.
 */
import { engineReloadExitCode } from '../../shared/bridge.js';
import { isApiMethod, isStreamingMethod, type ApiMethod, type StreamEvent } from '../../shared/contract.js';
import { cancelled, NpllmError, RequestError, toNpllmError, type SerializedError } from '../../shared/errors.js';
import { Dispatcher } from './api/dispatcher.js';
import { createHandlers } from './api/handlers.js';
import { loadConfig } from './config/config.js';
import { Engine } from './engine.js';

/** What this file needs of Electron's `process.parentPort` (MessageEvent carries the payload in `data`). */
export interface ParentPortLike {
  on(event: 'message', listener: (messageEvent: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

export type EngineRequestMessage = { id: number; method: ApiMethod; request: unknown; stream?: boolean };
export type EngineCancelMessage = { id: number; cancel: true };
export type EngineShutdownMessage = { shutdown: true };
export type ToEngineMessage = EngineRequestMessage | EngineCancelMessage | EngineShutdownMessage;

export type FromEngineMessage = { id: number; result: unknown } | { id: number; error: SerializedError } | { id: number; event: StreamEvent<unknown> };

export interface ServeOptions {
  /** Called once the engine is closed after a shutdown message; the utility process exits there. */
  onShutdown: () => void;
  /** Where protocol misuse is reported; such messages cannot be answered (they carry no usable id). */
  warn?: (message: string) => void;
}

export interface EnginePortServer {
  /** Cancels whatever runs, waits for it to settle, then disposes the engine. */
  shutdown(): Promise<void>;
}

/**
 * Serves the contract over a port through the engine's dispatcher. The engine is a promise so
 * requests that arrive while it opens wait for it (and can be cancelled meanwhile), and, if it
 * cannot open, each one is answered with that error (message and fix) instead of the window
 * waiting forever.
 */
export function serveEngineOverPort(port: ParentPortLike, engineReady: Promise<Engine>, options: ServeOptions): EnginePortServer {
  const warn = options.warn ?? ((message: string) => process.stderr.write(`[npllm] engine: ${message}\n`));
  const api = new Dispatcher(engineReady.then(createHandlers));
  const settling = new Set<Promise<void>>();
  let shuttingDown: Promise<void> | null = null;

  const send = (message: FromEngineMessage) => port.postMessage(message);

  const run = (message: EngineRequestMessage, signal: AbortSignal): Promise<void> => {
    const { id, method } = message;
    if (shuttingDown) return Promise.resolve(send({ id, error: cancelled('The engine is shutting down.').toJSON() }));
    const options = { caller: 'desktop' as const, signal };
    if (message.stream === true && isStreamingMethod(method)) return api.stream(method, message.request, options, (event) => send({ id, event }));
    return api.call(method, message.request, options).then(
      (result) => send({ id, result }),
      (error: unknown) => send({ id, error: toNpllmError(error).toJSON() }),
    );
  };

  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      api.cancelAll();
      await Promise.allSettled([...settling]);
      // An engine that never opened has nothing to close.
      const engine = await engineReady.catch(() => null);
      await engine?.dispose();
    })();
    return shuttingDown;
  };

  port.on('message', ({ data }) => {
    const message = parseMessage(data);
    if (message instanceof NpllmError) {
      const id = idOf(data);
      if (id === null) warn(`ignored a message: ${message.message}`);
      else send({ id, error: message.toJSON() });
      return;
    }
    if ('shutdown' in message) {
      void shutdown().then(options.onShutdown);
      return;
    }
    if ('cancel' in message) {
      api.cancel(message.id);
      return;
    }
    const settled = api
      .withId(message.id, undefined, (signal) => run(message, signal))
      .catch((error: unknown) => send({ id: message.id, error: toNpllmError(error).toJSON() }));
    settling.add(settled);
    void settled.finally(() => settling.delete(settled));
  });

  return { shutdown };
}

function idOf(data: unknown): number | null {
  const id = (data as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

function parseMessage(data: unknown): ToEngineMessage | NpllmError {
  const invalid = (why: string) =>
    new RequestError('REQUEST_INVALID', `Invalid engine message: ${why}.`, {
      fix: 'Send { id, method, request }, { id, cancel: true } or { shutdown: true } (see electron/engine/utility.ts).',
    });
  if (typeof data !== 'object' || data === null) return invalid('not an object');
  const fields = data as Record<string, unknown>;
  if (fields['shutdown'] === true) return { shutdown: true };
  const id = idOf(data);
  if (id === null) return invalid('"id" must be an integer');
  if (fields['cancel'] === true) return { id, cancel: true };
  const method = fields['method'];
  if (typeof method !== 'string' || !isApiMethod(method)) {
    return new NpllmError('NOT_FOUND', `No API method "${String(method)}".`, { fix: 'See shared/contract.ts for the methods.' });
  }
  return { id, method, request: fields['request'], ...(fields['stream'] === true ? { stream: true } : {}) };
}

/** Runs the engine for the desktop app: config from the environment (main sets NPLLM_HOME to the app's data folder). */

export function startUtilityProcess(port: ParentPortLike, env: NodeJS.ProcessEnv): EnginePortServer {
  const reload = () => void server.shutdown().then(() => process.exit(engineReloadExitCode));
  const engineReady = (async () => Engine.open(loadConfig({ env }), { configSources: { env }, onReload: reload }))();
  // Requests receive this failure too; logging it here also covers a window that never asks.
  void engineReady.catch((error: unknown) => process.stderr.write(`[npllm] engine could not start: ${toNpllmError(error).describe()}\n`));
  const server = serveEngineOverPort(port, engineReady, { onShutdown: () => process.exit(0) });
  return server;
}

// Electron gives a utility process `process.parentPort`; anywhere else (tests, the CLI) this file is a library.
const parentPort = (process as unknown as { parentPort?: ParentPortLike | null }).parentPort;
if (parentPort) startUtilityProcess(parentPort, process.env);
