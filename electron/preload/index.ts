/**
 * The preload bridge: the renderer's `window.npllm`. It runs sandboxed (bundled to CommonJS) and
 * exposes nothing but the contract: the renderer never sees ipcRenderer or Node.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EngineProcessState, NpllmBridge } from '../../shared/bridge.js';
import type { ApiMethod, ApiRequest, ApiResponse, StreamEvent } from '../../shared/contract.js';
import { channels, type InvokeReply, type StreamCancelMessage, type StreamStartMessage } from '../main/bridge-protocol.js';

/**
 * The preload runs in a browser context, so MessageChannel is the DOM's; tsconfig.json types this
 * folder with Node's libraries, which lack the DOM MessagePort. These are the members used.
 */
interface DomMessagePort {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

const bridge: NpllmBridge = {
  async invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> {
    const reply = (await ipcRenderer.invoke(channels.invoke, method, request)) as InvokeReply<M>;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- see `invoke` above: an Error would lose code and fix.
    if (!reply.ok) throw reply.error;
    return reply.result;
  },

  stream(method, request, onEvent) {
    const { port1, port2 } = new MessageChannel() as unknown as { port1: DomMessagePort; port2: DomMessagePort };
    let ended = false;
    port1.onmessage = (message) => {
      const data = message.data as StreamEvent<unknown>;
      if (ended) return;
      if (data.type === 'done' || data.type === 'error') {
        ended = true;
        port1.close();
      }
      (onEvent as (event: StreamEvent<unknown>) => void)(data);
    };
    ipcRenderer.postMessage(channels.stream, { method, request } satisfies StreamStartMessage, [port2]);
    return {
      cancel() {
        if (ended) return;
        ended = true;
        port1.postMessage({ cancel: true } satisfies StreamCancelMessage);
        port1.close();
      },
    };
  },

  onFocusInput(listener) {
    return subscribe(channels.focusInput, () => listener());
  },

  pathForFile(file) {
    // A File that is not on disk (dragged from a web page) has no path: '' rather than an exception.
    try {
      return webUtils.getPathForFile(file);
    } catch {
      return '';
    }
  },

  async pickFolder() {
    const folder: unknown = await ipcRenderer.invoke(channels.pickFolder);
    return typeof folder === 'string' ? folder : null;
  },

  onEngineState(listener) {
    return subscribe(channels.engineState, (state) => listener(state as EngineProcessState));
  },

  openInMain(conversationId) {
    ipcRenderer.send(channels.openInMain, typeof conversationId === 'string' ? conversationId : null);
  },

  onOpenConversation(listener) {
    return subscribe(channels.openConversation, (id) => typeof id === 'string' && listener(id));
  },
};

/** Listens on a main → renderer channel; the renderer gets the payload, never the IPC event. */
function subscribe(channel: string, listener: (payload: unknown) => void): () => void {
  const handler = (_event: unknown, payload: unknown) => listener(payload);
  ipcRenderer.on(channel, handler);
  return () => {
    ipcRenderer.off(channel, handler);
  };
}

contextBridge.exposeInMainWorld('npllm', bridge);
