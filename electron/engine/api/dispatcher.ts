/**
 * The one way into the engine, whatever the transport (HTTP, Electron's utility port, the CLI):
 * validate the untrusted request against the contract, run the method's handler, deliver the
 * events it declares (progress, tokens) when the caller streams, cancel by signal or by id, and
 * turn every failure into one serialisable NpllmError. Transports only move bytes.
 */
import {
  describeValidationIssues,
  isStreamingMethod,
  requestSchemas,
  type ApiMethod,
  type ApiRequest,
  type ApiResponse,
  type Progress,
  type StreamEventOf,
} from '../../../shared/contract.js';
import { cancelled, NpllmError, RequestError, toNpllmError } from '../../../shared/errors.js';
import { findInvalidText } from '../../../shared/text.js';
import { databaseFailure, isDatabaseFailure } from '../db/client.js';

/**
 * Who is asking. The command line runs as the user and may name any folder; the HTTP API and the
 * desktop window are reachable by others (a web page, another process), so project paths they
 * send are held to the allowed roots.
 */
export type Caller = 'cli' | 'http' | 'desktop';

export interface HandlerContext {
  caller: Caller;
  signal: AbortSignal | undefined;
  /** Set only when the caller streams and the method declares progress events. */
  onProgress: ((progress: Progress) => void) | undefined;
  /** Set only when the caller streams and the method declares token events. */
  onToken: ((text: string) => void) | undefined;
}

export type Handler<M extends ApiMethod> = (request: ApiRequest<M>, context: HandlerContext) => Promise<ApiResponse<M>>;
export type Handlers = { [M in ApiMethod]: Handler<M> };

/** The events of a stream before its end; a method only sends the kinds it declares. */
export type InterimEvent = { type: 'progress'; progress: Progress } | { type: 'token'; text: string };

export interface CallOptions {
  caller: Caller;
  signal?: AbortSignal | undefined;
  /** Progress and token events, for methods that declare them. */
  onEvent?: ((event: InterimEvent) => void) | undefined;
}

export class Dispatcher {
  /** Calls started with an id (the utility port's), so a later message can cancel them. */
  private readonly running = new Map<number | string, AbortController>();

  /**
   * `handlers` may still be coming (the desktop's engine opens while the window already asks):
   * requests are validated at once, wait for it, and each gets the opening's failure if it fails.
   */
  constructor(private readonly handlers: Handlers | Promise<Handlers>) {}

  async call<M extends ApiMethod>(method: M, rawRequest: unknown, options: CallOptions): Promise<ApiResponse<M>> {
    try {
      return await this.run(method, rawRequest, options);
    } catch (error) {
      throw clientFacing(error);
    }
  }

  private async run<M extends ApiMethod>(method: M, rawRequest: unknown, options: CallOptions): Promise<ApiResponse<M>> {
    checkText(method, rawRequest);
    const parsed = requestSchemas[method].safeParse(rawRequest ?? {});
    if (!parsed.success) {
      const issues = describeValidationIssues(parsed.error);
      throw options.caller === 'cli'
        ? new RequestError('REQUEST_INVALID', `Invalid arguments: ${issues}.`, { fix: 'See "npllm <command> --help" for what the command takes.' })
        : new RequestError('REQUEST_INVALID', `Invalid request for ${method}: ${issues}.`, {
            fix: `Send a JSON body matching the "${method}" request (GET /api/openapi.json describes it).`,
          });
    }
    const emit = isStreamingMethod(method) ? options.onEvent : undefined;
    const context: HandlerContext = {
      caller: options.caller,
      signal: options.signal,
      onProgress: emit && ((progress) => emit({ type: 'progress', progress })),
      onToken: emit && ((text) => emit({ type: 'token', text })),
    };
    const handlers = await this.handlers;
    if (options.signal?.aborted) throw cancelled();
    return (handlers[method] as Handler<M>)(parsed.data as ApiRequest<M>, context);
  }

  /**
   * A call as a stream: its events, then exactly one `done` or `error` (never a throw), as the
   * utility port sends it. (HTTP answers a failure before the first event with its status instead.)
   */
  async stream<M extends ApiMethod>(method: M, rawRequest: unknown, options: CallOptions, send: (event: StreamEventOf<M>) => void): Promise<void> {
    try {
      const result = await this.call(method, rawRequest, { ...options, onEvent: (event) => send(event as StreamEventOf<M>) });
      send({ type: 'done', result });
    } catch (error) {
      send({ type: 'error', error: toNpllmError(error).toJSON() });
    }
  }

  /** Runs `work` under `id` so that `cancel(id)` can stop it; an id already running is refused. */
  async withId<T>(id: number | string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running.has(id)) throw new RequestError('REQUEST_INVALID', `Request id ${id} is already running.`, { fix: 'Give every request its own id.' });
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      return await work(signal ? AbortSignal.any([signal, controller.signal]) : controller.signal);
    } finally {
      this.running.delete(id);
    }
  }

  cancel(id: number | string): void {
    this.running.get(id)?.abort();
  }

  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}

/**
 * Text is checked once, here, for every method and transport: a NUL or a lone surrogate would
 * otherwise reach PostgreSQL (which refuses it, and the request looked like a database outage) or
 * llama.cpp. A question's text is the user's own mistake to fix (QUERY_INVALID); any other field
 * is a malformed request.
 */
function checkText(method: ApiMethod, request: unknown): void {
  const invalid = findInvalidText(request);
  if (!invalid) return;
  const inQuestion = method === 'chat/ask' && /^(question|history)(\.|$)/.test(invalid.path);
  throw new RequestError(
    inQuestion ? 'QUERY_INVALID' : 'REQUEST_INVALID',
    `${inQuestion ? 'The question is not valid text' : `Invalid request for ${method}`}: ${invalid.path} ${invalid.reason}.`,
    { fix: 'Send plain UTF-8 text without NUL characters or unpaired surrogates.' },
  );
}

/**
 * What leaves the engine: a database failure that escaped a capability becomes one error that
 * names the database's own complaint, never the statement or its parameters (a user's question,
 * a path, a token).
 */
function clientFacing(error: unknown): NpllmError {
  if (!(error instanceof NpllmError) && isDatabaseFailure(error)) return databaseFailure('the database', error);
  return toNpllmError(error);
}
