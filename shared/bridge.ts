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
  /** The folder a dropped File stands for (Electron's webUtils.getPathForFile); '' when it has none. */
  pathForFile(file: File): string;
  /** The native open-folder dialog; null when the person cancels. */
  pickFolder(): Promise<string | null>;
  /** Main's news about the engine process: it stopped and is being restarted, or it is back. */
  onEngineState(listener: (state: EngineProcessState) => void): () => void;
  /** From the quick-question window: show the main window with this conversation. */
  openInMain(conversationId: string | null): void;
  /** In the main window: the quick-question window asked to show a conversation here. */
  onOpenConversation(listener: (conversationId: string) => void): () => void;
}

/** The exit code with which the engine's utility process asks main for a fresh one at once (system/reload). */
export const engineReloadExitCode = 75;

/** What main tells the renderer about the engine's utility process. */
export interface EngineProcessState {
  state: 'restarting' | 'running';
  /** Why it is restarting: it stopped unexpectedly (`crashed`, with its exit code) or to apply settings (`reload`). */
  reason?: 'crashed' | 'reload';
  exitCode?: number;
  /** How many times it was restarted since the app started. */
  restarts: number;
}
