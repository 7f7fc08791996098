/**
 * The IPC channels between the preload bridge and main, and the shape of their messages. Both
 * sides import this one file so a renamed channel cannot silently disconnect them.
 */
import type { ApiMethod, ApiResponse } from '../../shared/contract.js';
import type { SerializedError } from '../../shared/errors.js';

export const channels = {
  /** `ipcRenderer.invoke(invoke, method, request)` → `InvokeReply`. */
  invoke: 'npllm:invoke',
  /** `ipcRenderer.postMessage(askStream, request, [port])`: AskStreamEvents come back on the port. */
  askStream: 'npllm:ask-stream',
  /** main → renderer: put the cursor in the question box (the tray's quick question). */
  focusInput: 'npllm:focus-input',
} as const;

/**
 * `ipcMain.handle` turns a thrown error into a bare message, losing `code` and `fix`, so failures
 * travel as data and the preload turns them back into a rejection.
 */
export type InvokeReply<M extends ApiMethod = ApiMethod> = { ok: true; result: ApiResponse<M> } | { ok: false; error: SerializedError };

/** Sent by the renderer on the stream's port to stop generation. */
export interface StreamCancelMessage {
  cancel: true;
}
