/**
 * What the hardening suite shares: a real engine behind a real HTTP server, raw HTTP requests
 * (headers a browser or an attacker would send, bytes no client library would), and the CLI as a
 * process. Every case names the exact status and error code it expects; HARDENING.md counts them.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Engine } from '../electron/engine/engine.js';
import { startServer, type RunningServer, type ServerOptions } from '../electron/engine/server/http-server.js';
import type { ConfigOverrides } from '../electron/engine/config/config.js';
import { tempHome, testConfig, type TempHome } from '../electron/engine/test/support.js';

export interface Served {
  home: TempHome;
  engine: Engine;
  server: RunningServer;
  /** host:port, as a browser on this machine would write it in Host and Origin. */
  authority: string;
  close(): Promise<void>;
}

export async function serve(overrides: ConfigOverrides = {}, options: Partial<ServerOptions> = {}): Promise<Served> {
  const home = tempHome('npllm-hardening-');
  const engine = await Engine.open(testConfig(home.home, { rag: { allowedRoots: [home.home] }, ...overrides }));
  const server = await startServer(engine, { host: '127.0.0.1', port: 0, apiKey: null, maxBodyBytes: 64 * 1024, staticDir: null, ...options });
  return {
    home,
    engine,
    server,
    authority: new URL(server.url).host,
    close: async () => {
      await server.close();
      await engine.dispose();
      home.cleanup();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body's `error`, when there is one. */
  error: { code: string; message: string; fix?: string } | null;
}

/**
 * One request with exactly these headers and bytes (node:http adds only Host, unless `host` is
 * given, and Content-Length for a body).
 */
export function send(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string },
): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: { ...(options.host ? { host: options.host } : {}), ...options.headers },
        setHost: options.host === undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let error = null;
          try {
            error = (JSON.parse(body) as { error?: RawResponse['error'] }).error ?? null;
          } catch {
            error = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, error });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A JSON POST as a program sends it (no Origin): the baseline the hostile variants differ from. */
export function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(url, {
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

/** A request written byte for byte on a socket: what no HTTP library lets one send (no Host, a raw target). */
export function rawHttp(url: string, text: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
      resolve({ status, body: response.slice(response.indexOf('\r\n\r\n') + 4) });
    });
  });
}
