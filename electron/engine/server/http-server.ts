/**
 * The headless server: the typed contract under /api/, an OpenAI-compatible
 * /v1/chat/completions for editors, /health, and the built renderer for browsers. Plain
 * node:http: the surface is small and every byte of latency counts on a 2-core VPS.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { isApiMethod, isStreamingMethod, type StreamingMethod } from '../../../shared/contract.js';
import { NpllmError, RequestError, toNpllmError } from '../../../shared/errors.js';
import { openApiDocument } from '../api/openapi.js';
import { packageVersion } from '../base/paths.js';
import type { Engine } from '../engine.js';
import { checkHost, checkJsonBody, checkOrigin, setSecurityHeaders } from './guard.js';
import { abortOnDisconnect, readJsonBody, sendError, sendJson } from './http.js';
import { handleChatCompletions, handleModels } from './openai.js';
import { openEventStream } from './sse.js';

export interface ServerOptions {
  host: string;
  port: number;
  apiKey: string | null;
  /** Besides loopback names and the listening address (server.allowedHosts); none by default. */
  allowedHosts?: readonly string[];
  /** Besides the server's own origin (server.allowedOrigins); none by default. */
  allowedOrigins?: readonly string[];
  maxBodyBytes: number;
  staticDir: string | null;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The engine, or how to get the current one (`npllm serve` reopens it when settings change). */
export type EngineSource = Engine | (() => Promise<Engine>);

export async function startServer(source: EngineSource, options: ServerOptions): Promise<RunningServer> {
  const engineNow = typeof source === 'function' ? source : () => Promise.resolve(source);
  const server = createServer((request, response) => {
    route(engineNow, options, request, response).catch((error: unknown) => sendError(response, error));
  });
  // Slow or stuck clients must not pin sockets forever; streams are exempt (requestTimeout is per request).
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new NpllmError('CONFIG_INVALID', `Cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}.`, {
          cause: error,
          fix:
            error.code === 'EADDRINUSE'
              ? 'Another process uses that port: stop it or set server.port (NPLLM_PORT) to a free one.'
              : 'Check server.host and server.port.',
        }),
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(engineNow: () => Promise<Engine>, options: ServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  setSecurityHeaders(response);
  checkHost(request, options);
  const path = pathOf(request);
  const isApi = path.startsWith('/api/') || path.startsWith('/v1/');
  // Navigating to the UI from another site is fine; calling the API or posting anything from one is not.
  if (isApi || (request.method !== 'GET' && request.method !== 'HEAD')) checkOrigin(request, options);

  if (path === '/health') {
    requireMethod(request, 'GET', 'HEAD');
    const health = await (await engineNow()).health();
    return sendJson(response, health.status === 'ok' ? 200 : 503, health);
  }

  if (isApi) authorize(request, options.apiKey);
  if (!isApi && (request.method === 'GET' || request.method === 'HEAD')) return serveStatic(options.staticDir, path, response);
  const engine = await engineNow();

  if (path === '/v1/models') {
    requireMethod(request, 'GET');
    return sendJson(response, 200, handleModels(engine));
  }
  if (path === '/v1/chat/completions') {
    requireMethod(request, 'POST');
    checkJsonBody(request);
    const body = await readJsonBody(request, options.maxBodyBytes);
    return handleChatCompletions(engine, body, request, response);
  }
  if (path === '/api/openapi.json') {
    requireMethod(request, 'GET', 'HEAD');
    return sendJson(response, 200, openApiDocument(packageVersion));
  }
  if (path.startsWith('/api/')) {
    const method = path.slice('/api/'.length);
    if (!isApiMethod(method)) {
      throw new NpllmError('NOT_FOUND', `No API method "${method}".`, {
        fix: 'See shared/contract.ts for the methods: POST /api/<domain>/<action> with a JSON body.',
      });
    }
    requireMethod(request, 'POST');
    checkJsonBody(request);
    const body = await readJsonBody(request, options.maxBodyBytes);
    const abort = abortOnDisconnect(request, response);
    const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');
    if (wantsStream && isStreamingMethod(method)) return streamCall(engine, method, body, abort.signal, response);
    return sendJson(response, 200, await engine.api.call(method, body, { caller: 'http', signal: abort.signal }));
  }
  throw new NpllmError('NOT_FOUND', `Nothing at ${request.method ?? ''} ${path}.`, { fix: 'The API lives under /api/ and /v1/; GET /health reports status.' });
}

/** The request's path, decoded once; a malformed target or percent-encoding is the client's mistake (400), not a crash. */
function pathOf(request: IncomingMessage): string {
  const malformed = (cause: unknown) =>
    new RequestError('REQUEST_INVALID', `The request target ${JSON.stringify((request.url ?? '').slice(0, 200))} is not a valid path.`, {
      cause,
      fix: 'Percent-encode the path as UTF-8 (encodeURI).',
    });
  let pathname: string;
  try {
    pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch (cause) {
    throw malformed(cause);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch (cause) {
    throw malformed(cause);
  }
  if (decoded.includes('\u0000')) throw malformed(new Error('NUL in the path'));
  return decoded;
}

/**
 * A streamed call as server-sent events. A failure before the first event (a bad request, a path
 * outside the allowed roots) still gets its HTTP status; after it, it ends the stream as an event.
 */
async function streamCall(engine: Engine, method: StreamingMethod, body: unknown, signal: AbortSignal, response: ServerResponse): Promise<void> {
  const stream = openEventStream(response);
  try {
    const result = await engine.api.call(method, body, { caller: 'http', signal, onEvent: (event) => stream.send(event) });
    stream.send({ type: 'done', result });
  } catch (error) {
    if (!stream.started) throw error;
    stream.send({ type: 'error', error: toNpllmError(error).toJSON() });
  }
  stream.end();
}

function requireMethod(request: IncomingMessage, ...allowed: string[]): void {
  if (!allowed.includes(request.method ?? '')) {
    throw new NpllmError('METHOD_NOT_ALLOWED', `${request.method ?? '?'} is not allowed here; use ${allowed.join(' or ')}.`, {
      fix: `Send the request with ${allowed.join(' or ')}.`,
    });
  }
}

function authorize(request: IncomingMessage, apiKey: string | null): void {
  if (!apiKey) return;
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(apiKey);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new NpllmError('UNAUTHORIZED', 'Missing or wrong API key.', { fix: 'Send "Authorization: Bearer <server.apiKey>" (NPLLM_API_KEY on the server).' });
  }
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

async function serveStatic(staticDir: string | null, path: string, response: ServerResponse): Promise<void> {
  const notBuilt = new NpllmError('NOT_FOUND', `Nothing at ${path}.`, {
    fix: 'The web UI is served once it is built (npm run build); the API lives under /api/ and /v1/.',
  });
  if (!staticDir) throw notBuilt;
  const root = normalize(staticDir);
  let file = normalize(join(root, path));
  if (!file.startsWith(root + sep) && file !== root) throw notBuilt;
  let stats = await stat(file).catch(() => null);
  if (stats?.isDirectory()) {
    file = join(file, 'index.html');
    stats = await stat(file).catch(() => null);
  }
  if (!stats?.isFile()) {
    // Client-side routes fall back to the app shell; missing assets stay 404.
    if (extname(path)) throw notBuilt;
    file = join(root, 'index.html');
    stats = await stat(file).catch(() => null);
    if (!stats?.isFile()) throw notBuilt;
  }
  response.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream', 'content-length': stats.size });
  createReadStream(file).pipe(response);
}
