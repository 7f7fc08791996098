/**
 * How the renderer reaches the engine: through the preload bridge (`window.npllm`) in the desktop
 * app, or over HTTP when the same UI is served by `npllm serve`. Either way it speaks only the
 * contract in shared/contract.ts, and every failure becomes an NpllmError with its `fix`.
 */
import type { ApiMethod, ApiRequest, ApiResponse, AskRequest, AskResponse, Progress, StreamEvent, StreamingMethod } from '../../shared/contract.js';
import { cancelled, isSerializedError, NpllmError, toNpllmError } from '../../shared/errors.js';
import { SseParser } from './sse.js';
import type { NpllmBridge } from '../../shared/bridge.js';

declare global {
  interface Window {
    npllm?: NpllmBridge;
  }
}

export interface AskHooks {
  signal?: AbortSignal;
  onToken?: (text: string) => void;
  onProgress?: (progress: Progress) => void;
}

export interface InvokeOptions {
  /** Let the request outlive the page (sent from pagehide); HTTP only, the desktop IPC needs nothing. */
  keepalive?: boolean;
  /**
   * Background requests (feedback) must not pop up the API key prompt: a refused key fails them
   * quietly, and the next thing the person does asks for it.
   */
  askForKey?: boolean;
}

/** Hooks of a streamed call other than chat/ask (indexing, learning, model downloads). */
export interface StreamHooks {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface Transport {
  readonly kind: 'desktop' | 'http';
  /** Any streaming method: its progress, then its result; rejects with an NpllmError (CANCELLED once `signal` aborts). */
  stream<M extends StreamingMethod>(method: M, request: ApiRequest<M>, hooks?: StreamHooks): Promise<ApiResponse<M>>;
  /** Rejects with an NpllmError. */
  invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>, options?: InvokeOptions): Promise<ApiResponse<M>>;
  /** Streams chat/ask; rejects with an NpllmError, CANCELLED as soon as `signal` aborts. */
  ask(request: AskRequest, hooks?: AskHooks): Promise<AskResponse>;
  /** Main asking for the question box to take focus (the tray's quick question); desktop only. */
  onFocusInput?: (listener: () => void) => () => void;
}

export function createTransport(apiKeys?: ApiKeyStore): Transport {
  return window.npllm ? bridgeTransport(window.npllm) : httpTransport(fetch.bind(window), apiKeys ?? browserApiKeys());
}

/**
 * Where the browser keeps the server's API key (servers started with NPLLM_API_KEY): asked for
 * once, when the server first answers 401, then remembered for this origin.
 */
export interface ApiKeyStore {
  current(): string | null;
  /** Asks the person for the key (the app's key dialog); null when they decline. */
  request(reason: ApiKeyReason): Promise<string | null>;
  remember(key: string | null): void;
}

/** Why the key is asked for: none was saved, or the server refused the saved one. */
export type ApiKeyReason = 'missing' | 'refused';

const apiKeyStorageKey = 'npllm.apiKey';

/** The key as the browser keeps it; `request` goes to whatever dialog the app registered with `setPrompter`. */
export function browserApiKeys(): ApiKeyStore & { setPrompter(prompter: ((reason: ApiKeyReason) => Promise<string | null>) | null): void } {
  let prompter: ((reason: ApiKeyReason) => Promise<string | null>) | null = null;
  /** One dialog at a time: every request refused meanwhile waits for the same answer. */
  let asking: Promise<string | null> | null = null;
  const remember = (key: string | null) => (key ? window.localStorage.setItem(apiKeyStorageKey, key) : window.localStorage.removeItem(apiKeyStorageKey));
  return {
    current: () => window.localStorage.getItem(apiKeyStorageKey),
    request: (reason) => {
      if (!prompter) return Promise.resolve(null);
      // The key is kept as soon as it is given: the dialog may have been opened by a background
      // request that does not wait for it, and the next poll should already send it.
      asking ??= prompter(reason)
        .then((key) => {
          if (key) remember(key);
          return key;
        })
        .finally(() => (asking = null));
      return asking;
    },
    remember,
    setPrompter: (next) => (prompter = next),
  };
}

export function bridgeTransport(bridge: NpllmBridge): Transport {
  return {
    kind: 'desktop',
    async invoke(method, request) {
      try {
        return await bridge.invoke(method, request);
      } catch (error) {
        throw fromBridge(error);
      }
    },
    ask(request, hooks = {}) {
      return bridgeStream(bridge, 'chat/ask', { source: 'desktop', ...request }, hooks);
    },
    stream(method, request, hooks = {}) {
      return bridgeStream(bridge, method, request, hooks);
    },
    onFocusInput: (listener) => bridge.onFocusInput(listener),
  };
}

function bridgeStream<M extends StreamingMethod>(bridge: NpllmBridge, method: M, request: ApiRequest<M>, hooks: AskHooks): Promise<ApiResponse<M>> {
  const { signal } = hooks;
  if (signal?.aborted) return Promise.reject(cancelled());
  return new Promise<ApiResponse<M>>((resolve, reject) => {
    const onAbort = () => {
      stream.cancel();
      reject(cancelled());
    };
    const stream = bridge.stream(method, request, (event) => {
      if (signal?.aborted) return;
      const any = event as StreamEvent<ApiResponse<M>>;
      if (any.type === 'token') hooks.onToken?.(any.text);
      else if (any.type === 'progress') hooks.onProgress?.(any.progress);
      else {
        signal?.removeEventListener('abort', onAbort);
        if (any.type === 'done') resolve(any.result);
        else reject(NpllmError.fromJSON(any.error));
      }
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Errors raised because the server could not be reached at all: the request may never have arrived. */
const networkFailures = new WeakSet<Error>();

/** The request failed in transit (not refused by the engine), so sending it again may succeed. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof Error && networkFailures.has(error);
}

function fromBridge(error: unknown): NpllmError {
  return isSerializedError(error) ? NpllmError.fromJSON(error) : toNpllmError(error);
}

export function httpTransport(fetchImpl: typeof fetch, apiKeys?: ApiKeyStore): Transport {
  const send = (method: ApiMethod, body: unknown, init: RequestInit): Promise<Response> => {
    const key = apiKeys?.current();
    return fetchImpl(`/api/${method}`, {
      ...init,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
      body: JSON.stringify(body),
    });
  };
  const post = async (method: ApiMethod, body: unknown, init: RequestInit = {}, askForKey = true): Promise<Response> => {
    try {
      let response = await send(method, body, init);
      for (let attempt = 0; response.status === 401 && apiKeys && attempt < 3; attempt++) {
        const asked = apiKeys.request(apiKeys.current() ? 'refused' : 'missing');
        // Background requests (health, feedback) open the dialog but do not wait for it.
        if (!askForKey) break;
        const key = await asked;
        if (!key) break;
        apiKeys.remember(key);
        response = await send(method, body, init);
      }
      return response;
    } catch (error) {
      if (init.signal?.aborted) throw cancelled();
      const unreachable = new NpllmError('INTERNAL', `Cannot reach the npllm server: ${(error as Error).message}.`, {
        cause: error,
        fix: 'Check that "npllm serve" is still running, then try again.',
        details: { i18n: { message: 'transport.unreachable', fix: 'transport.unreachableFix', values: { reason: (error as Error).message } } },
      });
      networkFailures.add(unreachable);
      throw unreachable;
    }
  };

  return {
    kind: 'http',
    async invoke<M extends ApiMethod>(method: M, request: ApiRequest<M>, options: InvokeOptions = {}) {
      const response = await post(method, request, options.keepalive ? { keepalive: true } : {}, options.askForKey ?? true);
      if (!response.ok) throw await responseError(response);
      return (await response.json()) as ApiResponse<M>;
    },
    ask(request, hooks = {}) {
      return streamOverHttp('chat/ask', request, hooks);
    },
    stream(method, request, hooks = {}) {
      return streamOverHttp(method, request, hooks);
    },
  };

  async function streamOverHttp<M extends StreamingMethod>(method: M, request: ApiRequest<M>, hooks: AskHooks): Promise<ApiResponse<M>> {
    const { signal } = hooks;
    const response = await post(method, request, { headers: { accept: 'text/event-stream' }, ...(signal ? { signal } : {}) });
    // Requests rejected before the stream starts (empty, too long) come back as plain JSON errors.
    if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      throw await responseError(response);
    }
    const parser = new SseParser();
    const reader = response.body.getReader();
    const handle = (data: string): ApiResponse<M> | null => {
      const event = JSON.parse(data) as StreamEvent<ApiResponse<M>>;
      if (event.type === 'token') hooks.onToken?.(event.text);
      else if (event.type === 'progress') hooks.onProgress?.(event.progress);
      else if (event.type === 'error') throw NpllmError.fromJSON(event.error);
      else return event.result;
      return null;
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        for (const data of done ? parser.end() : parser.push(value)) {
          const result = handle(data);
          if (result) return result;
        }
        if (done) break;
      }
    } catch (error) {
      if (signal?.aborted) throw cancelled();
      if (error instanceof NpllmError) throw error;
      throw new NpllmError('INTERNAL', `The answer stream broke off: ${(error as Error).message}.`, {
        cause: error,
        fix: 'Check that "npllm serve" is still running, then ask again.',
        details: { i18n: { message: 'transport.brokeOff', fix: 'transport.brokeOffFix', values: { reason: (error as Error).message } } },
      });
    } finally {
      reader.releaseLock();
    }
    throw new NpllmError('INTERNAL', 'The server ended the answer stream without a result.', {
      fix: 'Ask again; if it keeps happening, look at the server log.',
      details: { i18n: { message: 'transport.noResult', fix: 'transport.noResultFix' } },
    });
  }
}

async function responseError(response: Response): Promise<NpllmError> {
  const body: unknown = await response.json().catch(() => null);
  const error = (body as { error?: unknown } | null)?.error;
  if (isSerializedError(error)) return NpllmError.fromJSON(error);
  const status = response.statusText ? `${response.status} ${response.statusText}` : String(response.status);
  return new NpllmError('INTERNAL', `The server answered ${status}.`, {
    fix: 'Check that this page is served by "npllm serve" and that the server is up to date.',
    details: { i18n: { message: 'transport.status', fix: 'transport.statusFix', values: { status } } },
  });
}
