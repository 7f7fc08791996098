/**
 * Main's handle on the engine in the utility process (electron/engine/utility.ts): numbers
 * requests, matches replies, relays stream events and cancels. It spawns the process on first use
 * and again after a crash, so one failure does not leave the window without an engine.
 */
import { engineReloadExitCode, type EngineProcessState } from '../../shared/bridge.js';
import type { ApiMethod, ApiResponse, StreamEvent, StreamingMethod } from '../../shared/contract.js';
import { NpllmError, type SerializedError } from '../../shared/errors.js';
import type { FromEngineMessage, ToEngineMessage } from '../engine/utility.js';

/** The members of Electron's UtilityProcess this client uses. */
export interface UtilityProcessLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface StreamHandle {
  cancel(): void;
}

type Reply = { result: unknown } | { error: SerializedError } | { event: StreamEvent<unknown> };

type Pending =
  | { kind: 'invoke'; resolve: (result: unknown) => void; reject: (error: NpllmError) => void }
  | { kind: 'stream'; onEvent: (event: StreamEvent<unknown>) => void };

export interface EngineClientOptions {
  /** The engine stopped and is being restarted, or runs again: main tells the windows. */
  onState?: (state: EngineProcessState) => void;
  /** Clock for the crash-loop guard (tests drive it). */
  now?: () => number;
}

/** More crashes than this within `crashWindowMs` stop the automatic restarts: the next request tries again. */
const maxCrashes = 5;
const crashWindowMs = 60_000;

export class EngineClient {
  private child: UtilityProcessLike | null = null;
  private stopped = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private restarts = 0;
  private crashes: number[] = [];
  /** Automatic restarts stopped after a crash loop: why, for when a request starts the engine again. */
  private held: { reason: 'crashed' | 'reload'; exitCode: number } | null = null;

  constructor(
    private readonly spawn: () => UtilityProcessLike,
    private readonly options: EngineClientOptions = {},
  ) {}

  /** Restarts since the app started. */
  get restartCount(): number {
    return this.restarts;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the engine ahead of the first request, so the database opens while the window loads. */
  start(): void {
    this.process();
  }

  /** Runs a contract method; the request is validated by the engine. Rejects with an NpllmError. */
  invoke<M extends ApiMethod>(method: M, request: unknown): Promise<ApiResponse<M>> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { kind: 'invoke', resolve: resolve as (result: unknown) => void, reject });
      this.send({ id, method, request });
    });
  }

  /** A streaming method; `onEvent` receives its progress (and tokens), then exactly one `done` or `error`. */
  stream(method: StreamingMethod, request: unknown, onEvent: (event: StreamEvent<unknown>) => void): StreamHandle {
    const id = this.nextId++;
    this.pending.set(id, { kind: 'stream', onEvent });
    this.send({ id, method, request, stream: true });
    return {
      cancel: () => {
        if (this.pending.has(id)) this.child?.postMessage({ id, cancel: true } satisfies ToEngineMessage);
      },
    };
  }

  /** Lets the engine close its database cleanly; kills it if it has not exited after `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve();
      }, timeoutMs);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.postMessage({ shutdown: true } satisfies ToEngineMessage);
    });
    // A killed process reports its exit later; by now it is gone either way.
    this.detach(child, quitting());
  }

  private process(): UtilityProcessLike {
    if (this.child) return this.child;
    const child = this.spawn();
    child.on('message', (message) => this.receive(message as FromEngineMessage));
    child.on('exit', (code) => this.exited(child, code));
    this.child = child;
    if (this.held) {
      this.options.onState?.({ state: 'running', ...this.held, restarts: this.restarts });
      this.held = null;
    }
    return child;
  }

  private send(message: ToEngineMessage & { id: number }): void {
    if (this.stopped) {
      this.settle(message.id, { error: quitting().toJSON() });
      return;
    }
    this.process().postMessage(message);
  }

  private receive(message: FromEngineMessage): void {
    this.settle(message.id, message);
  }

  private settle(id: number, message: Reply): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    if (pending.kind === 'stream') {
      // The engine answers a request it could not even start (unknown method, malformed) plainly.
      const event: StreamEvent<unknown> =
        'event' in message ? message.event : 'error' in message ? { type: 'error', error: message.error } : { type: 'done', result: message.result };
      if (event.type === 'done' || event.type === 'error') this.pending.delete(id);
      pending.onEvent(event);
      return;
    }
    if ('event' in message) return;
    this.pending.delete(id);
    if ('error' in message) pending.reject(NpllmError.fromJSON(message.error));
    else pending.resolve(message.result);
  }

  /**
   * The process is gone: what it left unanswered fails with an error that says so, and a new one
   * starts at once (the engine asked for it to apply settings, or it crashed), unless it crashed
   * over and over, in which case the next request starts it.
   */
  private exited(child: UtilityProcessLike, code: number): void {
    const wasCurrent = this.child === child;
    this.detach(
      child,
      new NpllmError('INTERNAL', `The npllm engine process stopped (exit code ${code}).`, {
        fix: 'Try again: npllm starts a new engine. If it keeps stopping, look at logs/npllm.log in the app data folder.',
      }),
    );
    if (!wasCurrent || this.stopped) return;
    const reason = code === engineReloadExitCode ? 'reload' : 'crashed';
    const now = (this.options.now ?? Date.now)();
    if (reason === 'crashed') this.crashes = [...this.crashes.filter((at) => now - at < crashWindowMs), now];
    this.restarts++;
    this.options.onState?.({ state: 'restarting', reason, exitCode: code, restarts: this.restarts });
    if (reason === 'crashed' && this.crashes.length > maxCrashes) {
      // The next request starts it, and says so then.
      this.held = { reason, exitCode: code };
      return;
    }
    this.process();
    this.options.onState?.({ state: 'running', reason, exitCode: code, restarts: this.restarts });
  }

  /** Forgets a process that is gone and fails what it left unanswered. */
  private detach(child: UtilityProcessLike, failure: NpllmError): void {
    if (this.child !== child) return;
    this.child = null;
    for (const id of [...this.pending.keys()]) this.settle(id, { error: failure.toJSON() });
  }
}

function quitting(): NpllmError {
  return new NpllmError('CANCELLED', 'npllm is quitting.');
}
