/**
 * The renderer's only door to the engine: `npllm:invoke` for request/response methods and a
 * MessagePort per streamed answer. Main does not interpret requests; the engine validates them
 * against the contract. Only the app's own page may use the door: a message from a subframe or
 * from a page that navigated elsewhere (whatever its preload exposes) is refused.
 */
import type { IpcMainEvent, IpcMainInvokeEvent, MessagePortMain } from 'electron';
import { isApiMethod, isStreamingMethod, type ApiMethod, type StreamEvent } from '../../shared/contract.js';
import { NpllmError, toNpllmError } from '../../shared/errors.js';
import { channels, type InvokeReply, type StreamStartMessage } from './bridge-protocol.js';
import type { EngineClient } from './engine-client.js';

/** The members of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  on(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): unknown;
}

export type EngineForIpc = Pick<EngineClient, 'invoke' | 'stream'>;

/** What the IPC events say about who sent them. */
type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>;

/** Whether a message comes from the top frame of the app's own page (`isApp` judges its URL). */
export function isTrustedSender(event: SenderEvent, isApp: (url: string) => boolean): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame !== event.sender.mainFrame) return false;
  return isApp(frame.url);
}

function untrusted(event: SenderEvent): NpllmError {
  return new NpllmError('FORBIDDEN_ORIGIN', `The page ${event.senderFrame?.url ?? '(gone)'} may not call the engine.`, {
    fix: "Only the app's own window talks to the engine.",
  });
}

export interface IpcOptions {
  /** After a method answered successfully (main re-reads the quick-question shortcut after settings/update). */
  onAnswered?: (method: ApiMethod, result: unknown) => void;
}

export function registerIpc(ipcMain: IpcMainLike, engine: EngineForIpc, isApp: (url: string) => boolean, options: IpcOptions = {}): void {
  ipcMain.handle(channels.invoke, async (event, method, request): Promise<InvokeReply> => {
    try {
      if (!isTrustedSender(event, isApp)) throw untrusted(event);
      if (typeof method !== 'string' || !isApiMethod(method)) {
        throw new NpllmError('NOT_FOUND', `No API method "${String(method)}".`, { fix: 'See shared/contract.ts for the methods.' });
      }
      const result = await engine.invoke(method, request);
      options.onAnswered?.(method, result);
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error: toNpllmError(error).toJSON() };
    }
  });

  ipcMain.on(channels.stream, (event, start) => {
    const [port] = event.ports;
    if (port) relayStream(port, engine, start as StreamStartMessage, isTrustedSender(event, isApp) ? null : untrusted(event));
  });
}

function relayStream(port: MessagePortMain, engine: EngineForIpc, start: StreamStartMessage, refused: NpllmError | null): void {
  let ended = false;
  const send = (event: StreamEvent<unknown>) => {
    if (ended) return;
    port.postMessage(event);
    if (event.type === 'done' || event.type === 'error') {
      ended = true;
      port.close();
    }
  };
  if (refused) {
    send({ type: 'error', error: refused.toJSON() });
    return;
  }
  const { method } = start ?? {};
  if (typeof method !== 'string' || !isApiMethod(method) || !isStreamingMethod(method)) {
    send({
      type: 'error',
      error: new NpllmError('NOT_FOUND', `No streaming API method "${String(method)}".`, {
        fix: 'Stream chat/ask, rag/index, learning/consolidate or models/pull.',
      }).toJSON(),
    });
    return;
  }
  const stream = engine.stream(method, start.request, send);
  port.on('message', ({ data }) => {
    if ((data as { cancel?: unknown } | null)?.cancel === true) stream.cancel();
  });
  // A reloaded or closed window drops its port: stop the work for nobody.
  port.on('close', () => {
    if (!ended) stream.cancel();
    ended = true;
  });
  port.start();
}
