import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { NpllmError } from '../../../shared/errors.js';
import { checkHost, checkJsonBody, checkOrigin, hostNameOf, isLoopbackHost } from './guard.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const codeOf = (check: () => void) => {
  try {
    check();
    return null;
  } catch (error) {
    return (error as NpllmError).code;
  }
};

describe('Host', () => {
  it('parses host names with ports, IPv6 brackets and case', () => {
    expect(hostNameOf('LocalHost:7411')).toBe('localhost');
    expect(hostNameOf('[::1]:7411')).toBe('::1');
    expect(hostNameOf('127.0.0.1')).toBe('127.0.0.1');
    expect(hostNameOf('a b')).toBeNull();
    expect(hostNameOf('evil.example/x')).toBeNull();
    expect(hostNameOf('user@evil.example')).toBeNull();
  });

  it('knows loopback names', () => {
    for (const host of ['localhost', 'app.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.1', 'localhost.evil.example', '128.0.0.1', 'evil.example']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('on loopback answers loopback names and listed hosts only; on a wildcard address with no list, any', () => {
    const loopback = { host: '127.0.0.1' };
    expect(codeOf(() => checkHost(request({ host: '127.0.0.1:7411' }), loopback))).toBeNull();
    expect(codeOf(() => checkHost(request({ host: 'localhost:7411' }), loopback))).toBeNull();
    expect(codeOf(() => checkHost(request({ host: 'rebind.evil.example:7411' }), loopback))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkHost(request({}), loopback))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkHost(request({ host: 'npllm.example.org' }), { host: '127.0.0.1', allowedHosts: ['npllm.example.org'] }))).toBeNull();
    expect(codeOf(() => checkHost(request({ host: 'anything.example' }), { host: '0.0.0.0' }))).toBeNull();
    expect(codeOf(() => checkHost(request({ host: 'anything.example' }), { host: '0.0.0.0', allowedHosts: ['npllm.example.org'] }))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkHost(request({ host: '192.168.1.5:7411' }), { host: '192.168.1.5' }))).toBeNull();
  });
});

describe('Origin', () => {
  const options = { host: '127.0.0.1', allowedOrigins: ['http://localhost:5173'] };
  it('lets programs and the same origin in, and nothing cross-site', () => {
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411' }), options))).toBeNull();
    expect(
      codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', origin: 'http://127.0.0.1:7411', 'sec-fetch-site': 'same-origin' }), options)),
    ).toBeNull();
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' }), options))).toBeNull();
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', origin: 'http://127.0.0.1:7412' }), options))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', origin: 'null' }), options))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', 'sec-fetch-site': 'cross-site' }), options))).toBe('FORBIDDEN_ORIGIN');
    expect(codeOf(() => checkOrigin(request({ host: '127.0.0.1:7411', 'sec-fetch-site': 'none' }), options))).toBeNull();
  });
});

describe('JSON bodies', () => {
  it('wants a declared JSON type for any body', () => {
    expect(codeOf(() => checkJsonBody(request({ 'content-length': '2', 'content-type': 'application/json; charset=utf-8' })))).toBeNull();
    expect(codeOf(() => checkJsonBody(request({ 'content-length': '2', 'content-type': 'application/merge-patch+json' })))).toBeNull();
    expect(codeOf(() => checkJsonBody(request({})))).toBeNull();
    expect(codeOf(() => checkJsonBody(request({ 'content-length': '2', 'content-type': 'text/plain' })))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(codeOf(() => checkJsonBody(request({ 'transfer-encoding': 'chunked' })))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(codeOf(() => checkJsonBody(request({ 'content-type': 'application/x-www-form-urlencoded' })))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
