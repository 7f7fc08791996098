/**
 * The IPC channels between the preload bridge and main, and the shape of their messages. Both
 * sides import this one file so a renamed channel cannot silently disconnect them.
 */
import type { ApiMethod, ApiResponse } from '../../shared/contract.js';
import type { SerializedError } from '../../shared/errors.js';

export const channels = {
  /** `ipcRenderer.invoke(invoke, method, request)` → `InvokeReply`. */
  invoke: 'npllm:invoke',
  /** `ipcRenderer.postMessage(stream, { method, request }, [port])`: the method's stream events come back on the port. */
  stream: 'npllm:stream',
  /** main → renderer: put the cursor in the question box (the tray's quick question). */
  focusInput: 'npllm:focus-input',
  /** `ipcRenderer.invoke(pickFolder)` → the folder chosen in the native dialog, or null. */
  pickFolder: 'npllm:pick-folder',
  /** main → renderer: `EngineProcessState` (the engine stopped and is restarting, or runs again). */
  engineState: 'npllm:engine-state',
  /** quick window → main: `send(openInMain, conversationId | null)` shows the main window with it. */
  openInMain: 'npllm:open-in-main',
  /** main → main window: open this conversation (asked from the quick window). */
  openConversation: 'npllm:open-conversation',
} as const;

/**
 * `ipcMain.handle` turns a thrown error into a bare message, losing `code` and `fix`, so failures
 * travel as data and the preload turns them back into a rejection.
 */
export type InvokeReply<M extends ApiMethod = ApiMethod> = { ok: true; result: ApiResponse<M> } | { ok: false; error: SerializedError };

/** What the renderer sends with the port of a stream. */
export interface StreamStartMessage {
  method: string;
  request: unknown;
}

/** Sent by the renderer on the stream's port to stop the work. */
export interface StreamCancelMessage {
  cancel: true;
}
