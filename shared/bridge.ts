/**
 * `window.npllm`: what the desktop preload exposes to the renderer. Declared once here because the
 * preload implements it and the renderer consumes it, and neither may import the other.
 */
import type { ApiMethod, ApiRequest, ApiResponse, StreamEventOf, StreamingMethod } from './contract.js';

export interface NpllmBridge {
  /** Rejects with a SerializedError (plain data: contextBridge keeps only the message of an Error). */
  invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>>;
  /**
   * Streams a method that streams (chat/ask, rag/index, learning/consolidate, models/pull): its
   * progress (and tokens), then one `done` or `error`. `cancel()` stops the work.
   */
  stream<M extends StreamingMethod>(method: M, request: ApiRequest<M>, onEvent: (event: StreamEventOf<M>) => void): { cancel(): void };
  /** Main asks for the question box to take focus (tray quick question); returns an unsubscribe. */
  onFocusInput(listener: () => void): () => void;
}
