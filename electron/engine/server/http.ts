/**
 * The HTTP plumbing the server's routes share (the typed API, the OpenAI-compatible endpoint):
 * bounded JSON bodies, JSON replies and errors, and cancelling work whose client went away.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError, toNpllmError } from '../../../shared/errors.js';

/** Cancels generation when the client goes away, so a closed tab does not keep the CPU busy. */
export function abortOnDisconnect(request: IncomingMessage, response: ServerResponse): AbortController {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  request.on('aborted', () => controller.abort());
  return controller;
}

export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    request.resume();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      request.resume();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (!isUtf8(bytes)) {
    // Decoding would silently turn the bad bytes into U+FFFD: the text stored would not be the text sent.
    throw new RequestError('REQUEST_INVALID', 'The request body is not valid UTF-8.', { fix: 'Encode the JSON body as UTF-8.' });
  }
  const text = bytes.toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new RequestError('REQUEST_INVALID', `The request body is not valid JSON: ${(cause as Error).message}.`, {
      cause,
      fix: 'Send a JSON object with "Content-Type: application/json".',
    });
  }
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError('REQUEST_TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`, {
    fix: 'Send less (set a project so npllm retrieves the code it needs), or raise server.maxBodyBytes.',
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store' });
  response.end(payload);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const failure = toNpllmError(error);
  if (response.headersSent) {
    response.destroy(failure);
    return;
  }
  sendJson(response, failure.status, { error: failure.toJSON() });
}
