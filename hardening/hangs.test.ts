/**
 * No hang without a message: a model URL whose server never answers, answers nothing after its
 * headers, or refuses, fails with MODEL_DOWNLOAD_FAILED within the stall limit (1 s here, 60 s by
 * default) instead of node-llama-cpp's downloader retrying forever. (A data folder on /proc and
 * the CLI's model URLs are cases of cli.test.ts.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { LocalModel } from '../electron/engine/model/local-model.js';
import { rejection, tempHome, type TempHome } from '../electron/engine/test/support.js';

let home: TempHome;
let server: Server;
let base: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  home = tempHome('npllm-hardening-hangs-');
  server = createServer((request, response) => {
    if (request.url === '/silent.gguf') return; // accepts, never answers
    if (request.url === '/stalls.gguf') {
      // Headers (for whatever range is asked), then nothing: the HEAD passes, the download never progresses.
      const size = 100_000_000;
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (range) {
        const from = Number(range[1]);
        const to = range[2] ? Number(range[2]) : size - 1;
        response.writeHead(206, {
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${from}-${to}/${size}`,
          'content-length': String(to - from + 1),
          'accept-ranges': 'bytes',
        });
      } else {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size), 'accept-ranges': 'bytes' });
      }
      if (request.method === 'HEAD') response.end();
      else response.flushHeaders();
      return;
    }
    response.writeHead(404).end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  home.cleanup();
});

function model(source: string): LocalModel {
  return new LocalModel({
    source,
    entry: findCatalogueEntry('smollm2-135m')!,
    cacheDir: home.home,
    pypiIndexUrl: 'https://pypi.org/simple/',
    threads: 1,
    contextSize: 512,
    temperature: 0,
    systemPrompt: '',
    downloadStallMs: 1000,
  });
}

describe('model downloads that would hang', () => {
  it.each([
    ['a server that never answers', '/silent.gguf', /no answer within 1 s/],
    ['a download that stops after its headers', '/stalls.gguf', /nothing arrived for 1 s/],
    ['a server that answers 404', '/missing.gguf', /the server answered 404/],
  ])('%s → MODEL_DOWNLOAD_FAILED', async (_name, path, message) => {
    const error = await rejection(model(`${base}${path}`).identify());
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toMatch(message);
    expect(error.fix).toMatch(/download the \.gguf yourself/);
  });

  it('an hf: URI that cannot be resolved (no network here, or no such repository) → MODEL_DOWNLOAD_FAILED', async () => {
    const error = await rejection(model('hf:npllm-hardening/no-such-model:Q4_K_M').identify());
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
  });
});
