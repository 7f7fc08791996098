import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NpllmBridge } from '../../shared/bridge.js';
import type { AskResponse, AskStreamEvent, Progress } from '../../shared/contract.js';
import { NpllmError, type SerializedError } from '../../shared/errors.js';
import { bridgeTransport, createTransport, httpTransport, isNetworkError, type ApiKeyReason } from './transport.js';

const result: AskResponse = {
  interactionId: 'i1',
  answer: 'Hello world',
  cached: false,
  cachedFrom: null,
  model: 'SmolLM2',
  adapters: [],
  timings: { ttftMs: 10, totalMs: 20, tokens: 2, promptTokens: 5, loadMs: 0 },
  finishReason: 'stop',
  retrieval: { used: false, reasons: ['no project is set'], sources: [] },
  modulator: { version: 0, retrieve: false, scales: {}, reasons: [], source: 'network', explored: false, propensity: 1 },
  conversationId: null,
  createdAt: '2026-01-01T00:00:00.000Z',
};
const progress: Progress = { task: 'model-load', label: 'Loading', fraction: 0.5, done: false };
const emptyQuestion: SerializedError = { name: 'RequestError', code: 'QUERY_EMPTY', message: 'The question is empty.', fix: 'Type a question.' };

const sse = (events: AskStreamEvent[]) => events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('');

/** A streamed response whose body arrives in chunks of `chunkSize` bytes. */
function streamResponse(text: string, chunkSize = 7): Response {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += chunkSize) controller.enqueue(bytes.slice(at, at + chunkSize));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function fakeFetch(respond: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = vi.fn((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    calls.push({ url, init: init ?? {} });
    return Promise.resolve(respond(url, init ?? {}));
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls };
}

describe('httpTransport', () => {
  it('invoke POSTs the request as JSON to /api/<method>', async () => {
    const { fetchImpl, calls } = fakeFetch(() => jsonResponse(200, { items: [] }));
    await expect(httpTransport(fetchImpl).invoke('interactions/list', { limit: 2 })).resolves.toEqual({ items: [] });
    expect(calls[0]?.url).toBe('/api/interactions/list');
    expect(calls[0]?.init).toMatchObject({ method: 'POST', body: '{"limit":2}', headers: { 'content-type': 'application/json' } });
  });

  it('invoke turns an error body into an NpllmError with its fix', async () => {
    const { fetchImpl } = fakeFetch(() => jsonResponse(400, { error: emptyQuestion }));
    const error = await httpTransport(fetchImpl)
      .invoke('chat/ask', { question: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NpllmError);
    expect(error).toMatchObject({ code: 'QUERY_EMPTY', fix: 'Type a question.' });
  });

  it('explains a response that is not an npllm error, and an unreachable server', async () => {
    const proxy = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(httpTransport(proxy.fetchImpl).invoke('system/health', {})).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'The server answered 502 Bad Gateway.',
    });

    const down = vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))) as unknown as typeof fetch;
    await expect(httpTransport(down).invoke('system/health', {})).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('Cannot reach'),
      fix: expect.stringContaining('npllm serve'),
    });
  });

  it('invoke can send a request that outlives the page (keepalive), and marks only transit failures as network errors', async () => {
    const { fetchImpl, calls } = fakeFetch(() => jsonResponse(200, { eventId: 'dwell-i1', duplicate: false }));
    await httpTransport(fetchImpl).invoke('feedback/record', { eventId: 'dwell-i1', interactionId: 'i1', type: 'dwell', value: 3 }, { keepalive: true });
    expect(calls[0]?.init).toMatchObject({ method: 'POST', keepalive: true, body: '{"eventId":"dwell-i1","interactionId":"i1","type":"dwell","value":3}' });
    await httpTransport(fetchImpl).invoke('system/health', {});
    expect(calls[1]?.init.keepalive).toBeUndefined();

    const down = vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))) as unknown as typeof fetch;
    expect(
      isNetworkError(
        await httpTransport(down)
          .invoke('system/health', {})
          .catch((e: unknown) => e),
      ),
    ).toBe(true);
    const refused = fakeFetch(() => jsonResponse(404, { error: { name: 'NpllmError', code: 'NOT_FOUND', message: 'No interaction.' } }));
    expect(
      isNetworkError(
        await httpTransport(refused.fetchImpl)
          .invoke('system/health', {})
          .catch((e: unknown) => e),
      ),
    ).toBe(false);
  });

  it('ask streams SSE: tokens and progress to the hooks, the done result as the value', async () => {
    const body = sse([
      { type: 'progress', progress },
      { type: 'token', text: 'Hello' },
      { type: 'token', text: ' world' },
      { type: 'done', result },
    ]);
    const { fetchImpl, calls } = fakeFetch(() => streamResponse(body));
    const tokens: string[] = [];
    const progressSeen: Progress[] = [];
    const answer = await httpTransport(fetchImpl).ask({ question: 'hi' }, { onToken: (text) => tokens.push(text), onProgress: (p) => progressSeen.push(p) });
    expect(answer).toEqual(result);
    expect(tokens).toEqual(['Hello', ' world']);
    expect(progressSeen).toEqual([progress]);
    expect(calls[0]?.url).toBe('/api/chat/ask');
    expect(calls[0]?.init.headers).toMatchObject({ accept: 'text/event-stream' });
  });

  it('ask rejects with the error event of a stream that failed mid-way', async () => {
    const generationFailed: SerializedError = { name: 'ModelError', code: 'GENERATION_FAILED', message: 'The model crashed.', fix: 'Try again.' };
    const { fetchImpl } = fakeFetch(() =>
      streamResponse(
        sse([
          { type: 'token', text: 'Hel' },
          { type: 'error', error: generationFailed },
        ]),
      ),
    );
    await expect(httpTransport(fetchImpl).ask({ question: 'hi' })).rejects.toMatchObject({ code: 'GENERATION_FAILED', fix: 'Try again.' });
  });

  it('ask rejects with the JSON error of a request refused before streaming', async () => {
    const tooLong: SerializedError = { name: 'RequestError', code: 'QUERY_TOO_LONG', message: 'Too long.', fix: 'Ask less.' };
    const { fetchImpl } = fakeFetch(() => jsonResponse(413, { error: tooLong }));
    await expect(httpTransport(fetchImpl).ask({ question: 'x'.repeat(10) })).rejects.toMatchObject({ code: 'QUERY_TOO_LONG' });
  });

  it('ask fails clearly when the stream ends without a result', async () => {
    const { fetchImpl } = fakeFetch(() => streamResponse(sse([{ type: 'token', text: 'Hel' }])));
    await expect(httpTransport(fetchImpl).ask({ question: 'hi' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('without a result'),
    });
  });

  it('ask rejects with CANCELLED when aborted mid-stream, after the tokens so far', async () => {
    const { fetchImpl } = fakeFetch((_url, init) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(sse([{ type: 'token', text: 'Hel' }])));
          // What fetch does to the body of an aborted request.
          init.signal?.addEventListener('abort', () => controller.error(new DOMException('The operation was aborted.', 'AbortError')));
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const controller = new AbortController();
    const tokens: string[] = [];
    const asked = httpTransport(fetchImpl).ask(
      { question: 'hi' },
      {
        signal: controller.signal,
        onToken: (text) => {
          tokens.push(text);
          controller.abort();
        },
      },
    );
    await expect(asked).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(tokens).toEqual(['Hel']);
  });
});

describe('bridgeTransport (desktop preload)', () => {
  function fakeBridge() {
    let onEvent: (event: AskStreamEvent) => void = () => undefined;
    const bridge = {
      invoke: vi.fn(),
      stream: vi.fn((_method: string, _request: unknown, listener: (event: AskStreamEvent) => void) => {
        onEvent = listener;
        return { cancel: cancelStream };
      }),
      onFocusInput: vi.fn(() => () => undefined),
    };
    const cancelStream = vi.fn();
    // The fake streams only chat/ask, which is all the transport asks of it.
    return { bridge, transport: bridgeTransport(bridge as unknown as NpllmBridge), emit: (event: AskStreamEvent) => onEvent(event), cancelStream };
  }

  it('invoke passes through, and rebuilds the serialized error the preload rejects with', async () => {
    const { bridge, transport } = fakeBridge();
    bridge.invoke.mockResolvedValueOnce({ items: [] });
    await expect(transport.invoke('interactions/list', {})).resolves.toEqual({ items: [] });
    expect(bridge.invoke).toHaveBeenCalledWith('interactions/list', {});

    bridge.invoke.mockRejectedValueOnce(emptyQuestion);
    const error = await transport.invoke('chat/ask', { question: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NpllmError);
    expect(error).toMatchObject({ name: 'RequestError', code: 'QUERY_EMPTY', fix: 'Type a question.' });
  });

  it('ask marks the request as from the desktop app and maps events to hooks and the result', async () => {
    const { bridge, transport, emit } = fakeBridge();
    const tokens: string[] = [];
    const asked = transport.ask({ question: 'hi' }, { onToken: (text) => tokens.push(text) });
    expect(bridge.stream).toHaveBeenCalledWith('chat/ask', { source: 'desktop', question: 'hi' }, expect.any(Function));
    emit({ type: 'token', text: 'Hello' });
    emit({ type: 'done', result });
    await expect(asked).resolves.toEqual(result);
    expect(tokens).toEqual(['Hello']);
  });

  it('ask rejects with the error event', async () => {
    const { transport, emit } = fakeBridge();
    const asked = transport.ask({ question: '' });
    emit({ type: 'error', error: emptyQuestion });
    await expect(asked).rejects.toMatchObject({ code: 'QUERY_EMPTY' });
  });

  it('abort cancels the stream and rejects with CANCELLED at once', async () => {
    const { transport, emit, cancelStream } = fakeBridge();
    const controller = new AbortController();
    const tokens: string[] = [];
    const asked = transport.ask({ question: 'hi' }, { signal: controller.signal, onToken: (text) => tokens.push(text) });
    emit({ type: 'token', text: 'Hel' });
    controller.abort();
    emit({ type: 'token', text: 'lo' });
    await expect(asked).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(cancelStream).toHaveBeenCalledOnce();
    expect(tokens).toEqual(['Hel']);
  });
});

describe('createTransport', () => {
  afterEach(() => {
    delete window.npllm;
  });

  it('uses the preload bridge in the desktop app and HTTP in a browser', () => {
    expect(createTransport().kind).toBe('http');
    window.npllm = {
      invoke: vi.fn(),
      stream: vi.fn(),
      onFocusInput: vi.fn(),
      pathForFile: vi.fn(),
      pickFolder: vi.fn(),
      onEngineState: vi.fn(),
      openInMain: vi.fn(),
      onOpenConversation: vi.fn(),
    };
    expect(createTransport().kind).toBe('desktop');
  });
});

describe('httpTransport with an API key', () => {
  function keyStore(initial: string | null, answer: string | null) {
    let saved = initial;
    const asked: string[] = [];
    return {
      asked,
      saved: () => saved,
      store: {
        current: () => saved,
        request: (reason: ApiKeyReason) => (asked.push(reason), Promise.resolve(answer)),
        remember: (key: string | null) => (saved = key),
      },
    };
  }
  function guardedFetch(expected: string) {
    const seen: (string | null)[] = [];
    const fetchImpl = ((_url: string, init: RequestInit) => {
      const auth = new Headers(init.headers).get('authorization');
      seen.push(auth);
      const ok = auth === `Bearer ${expected}`;
      return Promise.resolve(
        new Response(
          JSON.stringify(ok ? { items: [] } : { error: { name: 'NpllmError', code: 'UNAUTHORIZED', message: 'Missing or wrong API key.', fix: 'Send it.' } }),
          { status: ok ? 200 : 401, headers: { 'content-type': 'application/json' } },
        ),
      );
    }) as typeof fetch;
    return { fetchImpl, seen };
  }

  it('asks for the key on the first 401, remembers it, and retries', async () => {
    const keys = keyStore(null, 'k-123');
    const server = guardedFetch('k-123');
    const transport = httpTransport(server.fetchImpl, keys.store);
    await expect(transport.invoke('interactions/list', {})).resolves.toEqual({ items: [] });
    expect(keys.asked).toHaveLength(1);
    expect(keys.saved()).toBe('k-123');
    await transport.invoke('interactions/list', {});
    expect(keys.asked).toHaveLength(1);
    expect(server.seen).toEqual([null, 'Bearer k-123', 'Bearer k-123']);
  });

  it('reports the refusal when the person declines to give a key', async () => {
    const keys = keyStore(null, null);
    const transport = httpTransport(guardedFetch('k-123').fetchImpl, keys.store);
    await expect(transport.invoke('interactions/list', {})).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(keys.saved()).toBeNull();
  });

  it('a background request (askForKey: false) opens the key dialog but does not wait for it: it fails quietly', async () => {
    const keys = keyStore(null, 'k-123');
    const server = guardedFetch('k-123');
    await expect(
      httpTransport(server.fetchImpl, keys.store).invoke('feedback/record', { interactionId: 'i1', type: 'copied' }, { askForKey: false }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(keys.asked).toEqual(['missing']);
    expect(server.seen).toEqual([null]);
  });

  it('says so when the saved key is wrong, and stops asking after three refusals', async () => {
    const keys = keyStore('old', 'k-123');
    await httpTransport(guardedFetch('k-123').fetchImpl, keys.store).invoke('interactions/list', {});
    expect(keys.asked[0]).toBe('refused');
    const stubborn = keyStore(null, 'always-wrong');
    await expect(httpTransport(guardedFetch('k-123').fetchImpl, stubborn.store).invoke('interactions/list', {})).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(stubborn.asked).toHaveLength(3);
  });
});
