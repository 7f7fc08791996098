/**
 * What a request must be before any route sees it. The server listens on 127.0.0.1 without an API
 * key by default, and every web page the user visits can send requests there: a `text/plain` POST
 * needs no CORS preflight, and a page on a rebinding host name (evil.example resolving to
 * 127.0.0.1) is "same-origin" to the browser and can read the answers. So, for every route:
 *
 * - the `Host` header must name this server (loopback names when it listens on loopback, plus
 *   `server.allowedHosts`): a rebinding page sends its own host name;
 * - a browser request to the API must come from the server's own origin (`Origin`, and
 *   `Sec-Fetch-Site` where the browser sends it) or one of `server.allowedOrigins`;
 * - a body must be declared JSON: a form or `text/plain` is what a cross-site page can send
 *   without asking;
 * - nothing may frame the served UI.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { NpllmError, RequestError } from '../../../shared/errors.js';

export interface GuardOptions {
  /** The address the server listens on (config `server.host`). */
  host: string;
  /** Extra host names clients may address the server by (a reverse proxy's, a LAN name). */
  allowedHosts?: readonly string[] | undefined;
  /** Extra origins whose pages may call the API (`http://localhost:5173` for a dev server). */
  allowedOrigins?: readonly string[] | undefined;
}

/** Headers every response carries: no framing (clickjacking of the UI), no content sniffing, no cross-origin reads of responses. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
};

export function setSecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
}

/** 127.0.0.0/8, ::1 and `localhost` (browsers resolve `*.localhost` to loopback themselves, never through DNS). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '0:0:0:0:0:0:0:1' || name === '::ffff:127.0.0.1';
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** The host name of a `Host` header (`[::1]:7411` → `::1`), lower-case; null when it is malformed. */
export function hostNameOf(header: string): string | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!match) return null;
  return match[1]!.replace(/^\[|\]$/g, '').toLowerCase();
}

function forbidden(message: string, fix: string): NpllmError {
  return new NpllmError('FORBIDDEN_ORIGIN', message, { fix });
}

/**
 * Rejects a request addressed to a host name this server does not answer to. On loopback that is
 * anything but loopback names and `allowedHosts`; on another address, the address itself and
 * `allowedHosts` (a wildcard bind with no list answers to any name: the API key guards it).
 */
export function checkHost(request: IncomingMessage, options: GuardOptions): void {
  const header = request.headers.host;
  const name = header === undefined ? null : hostNameOf(header);
  if (name === null) {
    throw forbidden(
      `The request has ${header === undefined ? 'no' : 'a malformed'} Host header.`,
      'Send "Host: 127.0.0.1:<port>" (every HTTP/1.1 client does).',
    );
  }
  const allowed = (options.allowedHosts ?? []).map((host) => host.toLowerCase());
  if (allowed.includes(name) || isLoopbackHost(name)) return;
  const bind = options.host.replace(/^\[|\]$/g, '').toLowerCase();
  if (!isLoopbackHost(bind) && (name === bind || (isWildcard(options.host) && allowed.length === 0))) return;
  throw forbidden(
    `This server does not answer to the host name "${name}".`,
    'Address it as 127.0.0.1 or localhost, or add the name to server.allowedHosts in the server config.',
  );
}

/**
 * Rejects a browser request to the API from another origin. Requests without `Origin` and
 * `Sec-Fetch-Site` come from programs (curl, editors, the CLI), which a web page cannot forge.
 */
export function checkOrigin(request: IncomingMessage, options: GuardOptions): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (origin !== undefined && (options.allowedOrigins ?? []).includes(origin)) return;
  if (origin !== undefined) {
    let sameOrigin = false;
    try {
      sameOrigin = origin !== 'null' && new URL(origin).host.toLowerCase() === (request.headers.host ?? '').toLowerCase();
    } catch {
      sameOrigin = false;
    }
    if (!sameOrigin) {
      throw forbidden(
        `Requests from ${origin === 'null' ? 'an opaque origin (a sandboxed frame or a file)' : origin} may not call this API.`,
        'Call the API from the UI this server serves, from a program, or add the origin to server.allowedOrigins.',
      );
    }
  }
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw forbidden(`A ${site} browser request may not call this API.`, 'Call the API from the UI this server serves, or from a program.');
  }
}

/** A request body must be declared JSON (a cross-site page can send forms and text/plain without asking); an empty one needs no type. */
export function checkJsonBody(request: IncomingMessage): void {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!hasBody && type === '') return;
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return;
  throw new RequestError('UNSUPPORTED_MEDIA_TYPE', `The request body must be JSON, not ${type || 'an undeclared type'}.`, {
    fix: 'Send the body with "Content-Type: application/json" (curl: -H "Content-Type: application/json").',
  });
}
