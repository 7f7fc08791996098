/**
 * Hostile and malformed requests over HTTP, against a real server (real engine, PGlite, the tiny
 * model): cross-site requests and DNS rebinding, bodies a web page can send without asking, text
 * no database or model should see, malformed paths, paths out of the allowed roots, and the API
 * key of a server reachable from other machines. Each case names the status and the error code.
 */
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listInteractions } from '../electron/engine/data-collection/interactions.js';
import { startServer } from '../electron/engine/server/http-server.js';
import { serverApiKey } from '../electron/engine/server/api-key.js';
import { postJson, rawHttp, send, serve, type RawResponse, type Served } from './support.js';

let served: Served;
let url: string;
let project: string;

beforeAll(async () => {
  served = await serve();
  url = served.server.url;
  project = join(served.home.home, 'shop');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'src', 'app.py'), 'def total(items):\n    return sum(item.price for item in items)\n');
  // The project links out of itself: to /etc, and to a folder beside it.
  mkdirSync(join(served.home.home, 'private'));
  writeFileSync(join(served.home.home, 'private', 'notes.py'), 'SECRET_PLAN = "x"\n');
  symlinkSync('/etc', join(project, 'etc'));
  symlinkSync(join(served.home.home, 'private'), join(project, 'private'));
  symlinkSync('/proc/self', join(project, 'self'));
  // A "project" that is itself a link to /etc, inside the allowed root.
  symlinkSync('/etc', join(served.home.home, 'etc-project'));
});

afterAll(async () => {
  await served?.close();
});

const origin = () => `http://${served.authority}`;
const nul = 'How do I\u0000 drop a table?';

type Case = [name: string, send: () => Promise<RawResponse>, status: number, code: string];

/** Cross-site requests, DNS rebinding and what a page can send without a preflight. */
const crossSite: Case[] = [
  [
    'a cross-site text/plain POST that would index a folder',
    () =>
      send(url, { path: '/api/rag/index', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: JSON.stringify({ path: project }) }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'a cross-site JSON POST recording feedback',
    () => postJson(url, '/api/feedback/record', { interactionId: 'x', type: 'copied' }, { origin: 'https://evil.example' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'a sandboxed frame (Origin: null) promoting an adapter',
    () => postJson(url, '/api/adapters/promote', { name: 'python' }, { origin: 'null' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'a cross-site request without Origin but with Sec-Fetch-Site',
    () => postJson(url, '/api/learning/consolidate', { project }, { 'sec-fetch-site': 'cross-site' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'another port of localhost (same-site, not same-origin)',
    () => postJson(url, '/api/interactions/list', {}, { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'a cross-site OpenAI completion',
    () => postJson(url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }, { origin: 'http://evil.example' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'a cross-site rollback with a form body',
    () =>
      send(url, {
        path: '/api/adapters/rollback',
        headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=python',
      }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'DNS rebinding: reading interactions through an attacker host name',
    () => postJson(url, '/api/interactions/list', {}, { host: `rebind.evil.example:${new URL(url).port}` }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'DNS rebinding: asking about project code',
    () =>
      send(url, {
        path: '/api/chat/ask',
        host: 'rebind.evil.example',
        headers: { 'content-type': 'application/json', origin: 'http://rebind.evil.example' },
        body: JSON.stringify({ question: 'show me the code', project }),
      }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  ['DNS rebinding: the OpenAPI document', () => send(url, { method: 'GET', path: '/api/openapi.json', host: 'attacker.example' }), 403, 'FORBIDDEN_ORIGIN'],
  ['DNS rebinding: the served UI', () => send(url, { method: 'GET', path: '/', host: 'attacker.example' }), 403, 'FORBIDDEN_ORIGIN'],
  ['DNS rebinding: /health', () => send(url, { method: 'GET', path: '/health', host: 'attacker.example' }), 403, 'FORBIDDEN_ORIGIN'],
  [
    'a Host naming a private address the server does not listen on',
    () => send(url, { method: 'GET', path: '/health', host: '192.168.1.20:7411' }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
  [
    'an Origin that only starts like the server',
    () => postJson(url, '/api/system/health', {}, { origin: `http://${served.authority}.evil.example` }),
    403,
    'FORBIDDEN_ORIGIN',
  ],
];

/** Bodies that are not declared JSON: what a cross-site page can send without asking, now refused even without Origin. */
const mediaTypes: Case[] = [
  [
    'text/plain JSON to chat/ask',
    () => send(url, { path: '/api/chat/ask', headers: { 'content-type': 'text/plain' }, body: '{"question":"hi"}' }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a form to feedback/record',
    () => send(url, { path: '/api/feedback/record', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'interactionId=x&type=copied' }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'multipart to rag/index',
    () => send(url, { path: '/api/rag/index', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\n\r\n{}\r\n--x--' }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'text/plain to the OpenAI endpoint',
    () =>
      send(url, {
        path: '/v1/chat/completions',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: '{"messages":[{"role":"user","content":"hi"}]}',
      }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  ['a body with no content type', () => send(url, { path: '/api/system/health', body: '{}' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
];

/** Text no database or model should see, anywhere in a request. */
const invalidText: Case[] = [
  ['a NUL in a question', () => postJson(url, '/api/chat/ask', { question: nul }), 400, 'QUERY_INVALID'],
  ['a NUL in a streamed question', () => postJson(url, '/api/chat/ask', { question: nul }, { accept: 'text/event-stream' }), 400, 'QUERY_INVALID'],
  ['a lone surrogate in a question', () => postJson(url, '/api/chat/ask', '{"question":"caf\\ud800 au lait"}'), 400, 'QUERY_INVALID'],
  [
    'a NUL in the history',
    () => postJson(url, '/api/chat/ask', { question: 'and now?', history: [{ role: 'user', content: 'a\u0000b' }] }),
    400,
    'QUERY_INVALID',
  ],
  ['a NUL in an OpenAI message', () => postJson(url, '/v1/chat/completions', { messages: [{ role: 'user', content: nul }] }), 400, 'QUERY_INVALID'],
  [
    'a NUL in a streamed OpenAI message',
    () => postJson(url, '/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: nul }] }),
    400,
    'QUERY_INVALID',
  ],
  [
    'a NUL in feedback text',
    () => postJson(url, '/api/feedback/record', { interactionId: 'x', type: 'corrected', text: 'fixed\u0000' }),
    400,
    'REQUEST_INVALID',
  ],
  ['a NUL in a path to index', () => postJson(url, '/api/rag/index', { path: `${project}\u0000/etc` }), 400, 'REQUEST_INVALID'],
  ['a NUL in an interaction id', () => postJson(url, '/api/interactions/get', { id: 'abc\u0000' }), 400, 'REQUEST_INVALID'],
  ['a NUL in an object key', () => postJson(url, '/api/system/health', '{"a\\u0000b":1}'), 400, 'REQUEST_INVALID'],
  [
    'bytes that are not UTF-8',
    () => postJson(url, '/api/chat/ask', Buffer.concat([Buffer.from('{"question":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])),
    400,
    'REQUEST_INVALID',
  ],
  ['JSON nested 200 levels deep', () => postJson(url, '/api/system/health', `{"a":${'['.repeat(200)}${']'.repeat(200)}}`), 400, 'REQUEST_INVALID'],
  [
    'a conversation id with spaces and quotes',
    () => postJson(url, '/api/chat/ask', { question: 'hi', conversationId: 'x" OR 1=1 --' }),
    400,
    'REQUEST_INVALID',
  ],
];

/** Malformed request targets and the ordinary mistakes. */
const malformed: Case[] = [
  ['a truncated percent-encoding (GET /%E0%A4%A)', () => send(url, { method: 'GET', path: '/%E0%A4%A' }), 400, 'REQUEST_INVALID'],
  ['an encoded NUL in the path', () => send(url, { method: 'GET', path: '/index%00.html' }), 400, 'REQUEST_INVALID'],
  ['a bad escape in an API path', () => postJson(url, '/api/chat%ZZask', {}), 400, 'REQUEST_INVALID'],
  ['a path climbing out of the UI folder', () => send(url, { method: 'GET', path: '/%2e%2e/%2e%2e/etc/passwd' }), 404, 'NOT_FOUND'],
  ['malformed JSON', () => postJson(url, '/api/chat/ask', '{"question": '), 400, 'REQUEST_INVALID'],
  ['an unknown method', () => postJson(url, '/api/fs/readFile', { path: '/etc/passwd' }), 404, 'NOT_FOUND'],
  [
    'PUT on a POST route',
    () => send(url, { method: 'PUT', path: '/api/chat/ask', headers: { 'content-type': 'application/json' }, body: '{}' }),
    405,
    'METHOD_NOT_ALLOWED',
  ],
  ['a body over the limit', () => postJson(url, '/api/chat/ask', { question: 'x'.repeat(100 * 1024) }), 413, 'REQUEST_TOO_LARGE'],
  ['a question over query.maxChars', () => postJson(url, '/api/chat/ask', { question: 'x'.repeat(40_000) }), 413, 'QUERY_TOO_LONG'],
  ['a limit of 0', () => postJson(url, '/api/interactions/list', { limit: 0 }), 400, 'REQUEST_INVALID'],
  ['stats over 0 days', () => postJson(url, '/api/stats/behaviour', { days: 0 }), 400, 'REQUEST_INVALID'],
  ['a follow-up event sent by a client', () => postJson(url, '/api/feedback/record', { interactionId: 'x', type: 'follow-up' }), 400, 'REQUEST_INVALID'],
  ['feedback for no interaction', () => postJson(url, '/api/feedback/record', { interactionId: 'no-such-interaction', type: 'copied' }), 404, 'NOT_FOUND'],
  ['a reply to no interaction', () => postJson(url, '/api/chat/ask', { question: 'thanks', replyTo: 'no-such-interaction', maxTokens: 4 }), 404, 'NOT_FOUND'],
  ['an export written where the caller chooses', () => postJson(url, '/api/data/export', { project, out: '/tmp/owned.jsonl' }), 400, 'REQUEST_INVALID'],
];

/** Folders outside the allowed roots, directly or through a symlink. */
const paths: Case[] = [
  ['indexing /etc', () => postJson(url, '/api/rag/index', { path: '/etc' }), 400, 'REQUEST_INVALID'],
  [
    'indexing a link to /etc inside the allowed root',
    () => postJson(url, '/api/rag/index', { path: join(served.home.home, 'etc-project') }),
    400,
    'REQUEST_INVALID',
  ],
  ['asking about /root', () => postJson(url, '/api/chat/ask', { question: 'what is in here?', project: '/root' }), 400, 'REQUEST_INVALID'],
  ['detecting the context of /proc/self', () => postJson(url, '/api/context/detect', { path: '/proc/self' }), 400, 'REQUEST_INVALID'],
  ['learning from /usr', () => postJson(url, '/api/learning/consolidate', { project: '/usr' }), 400, 'REQUEST_INVALID'],
];

describe.each([
  ['cross-site requests and DNS rebinding', crossSite],
  ['bodies not declared JSON', mediaTypes],
  ['invalid text', invalidText],
  ['malformed requests', malformed],
  ['paths outside the allowed roots', paths],
])('HTTP: %s', (_group, cases) => {
  it.each(cases)('%s → %i %s', async (_name, request, status, code) => {
    const response = await request();
    expect(response.status, response.body).toBe(status);
    expect(response.error?.code).toBe(code);
    expect(response.error?.fix?.length).toBeGreaterThan(5);
    // Whatever failed, no statement or parameters reach the client.
    expect(response.body).not.toMatch(/Failed query|insert into|params:/i);
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});

describe('HTTP: what is allowed still works, and rejected requests leave nothing behind', () => {
  it('the same origin, a program without Origin, and the user navigating from a link', async () => {
    expect((await postJson(url, '/api/system/health', {}, { origin: origin(), 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await postJson(url, '/api/system/health', {})).status).toBe(200);
    expect((await postJson(url, '/api/system/health', {}, { host: `localhost:${new URL(url).port}` })).status).toBe(200);
    // A link from another site to the UI is a navigation, not an API call.
    const navigated = await send(url, { method: 'GET', path: '/health', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } });
    expect(navigated.status).toBe(200);
  });

  it('an origin listed in server.allowedOrigins may call the API', async () => {
    const extra = await startServer(served.engine, {
      host: '127.0.0.1',
      port: 0,
      apiKey: null,
      maxBodyBytes: 1024,
      staticDir: null,
      allowedOrigins: ['http://localhost:5173'],
    });
    try {
      expect((await postJson(extra.url, '/api/system/health', {}, { origin: 'http://localhost:5173' })).status).toBe(200);
      expect((await postJson(extra.url, '/api/system/health', {}, { origin: 'http://localhost:5174' })).status).toBe(403);
    } finally {
      await extra.close();
    }
  });

  it('no request without a Host header, or with a malformed one', async () => {
    const noHost = await rawHttp(url, 'POST /api/system/health HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    expect(noHost.status).toBe(403);
    expect(JSON.parse(noHost.body)).toMatchObject({ error: { code: 'FORBIDDEN_ORIGIN' } });
  });

  it('the UI cannot be framed and nothing is sniffed', async () => {
    const response = await send(url, { method: 'GET', path: '/health' });
    expect(response.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('rejected questions are not recorded, and nothing was indexed or learned', async () => {
    const recorded = await listInteractions(served.engine.database.db, { limit: 500 });
    expect(recorded.filter((record) => record.question.includes('\u0000') || record.question.includes('drop a table'))).toEqual([]);
    expect(await served.engine.rag.status(project)).toMatchObject({ indexed: false, files: 0 });
  });

  it('indexing over the API never follows a symlink out of the project: no /etc, no /proc, no folder beside it', async () => {
    const indexed = await postJson(url, '/api/rag/index', { path: project });
    expect(indexed.status, indexed.body).toBe(200);
    const result = JSON.parse(indexed.body) as { files: number; skipped: Record<string, number> };
    expect(result.files).toBe(1);
    expect(result.skipped['outside-project']).toBe(3);
    const asked = await postJson(url, '/api/chat/ask', { question: 'Where is the hosts file and the SECRET_PLAN in this project?', project, maxTokens: 4 });
    expect(asked.status, asked.body).toBe(200);
    const sources = (JSON.parse(asked.body) as { retrieval: { sources: { path: string }[] } }).retrieval.sources.map((source) => source.path);
    expect(sources.every((path) => path === 'src/app.py')).toBe(true);
  });
});

describe('HTTP: a server reachable from other machines has an API key from the first run', () => {
  it('creates <home>/api-key (0600) when it listens beyond loopback, requires it, and reuses it', async () => {
    const options = { host: '0.0.0.0', apiKey: null, home: served.home.home };
    const created = await serverApiKey(options);
    expect(created).toMatchObject({ created: true, file: join(served.home.home, 'api-key') });
    expect(statSync(created.file!).mode & 0o777).toBe(0o600);
    expect(readFileSync(created.file!, 'utf8').trim()).toBe(created.key);
    expect(await serverApiKey(options)).toMatchObject({ created: false, key: created.key });
    // On loopback nothing is created; behind a proxy answering to a public name, it is.
    expect(await serverApiKey({ host: '127.0.0.1', apiKey: null, home: served.home.home })).toMatchObject({ key: null });
    expect((await serverApiKey({ host: '127.0.0.1', allowedHosts: ['npllm.example.org'], apiKey: null, home: served.home.home })).key).toBe(created.key);

    const open = await startServer(served.engine, { host: '0.0.0.0', port: 0, apiKey: created.key, maxBodyBytes: 1024, staticDir: null });
    const port = new URL(open.url).port;
    const local = `http://127.0.0.1:${port}`;
    try {
      const without = await postJson(local, '/api/interactions/list', {});
      expect([without.status, without.error?.code]).toEqual([401, 'UNAUTHORIZED']);
      const wrong = await postJson(local, '/api/interactions/list', {}, { authorization: 'Bearer not-the-key-at-all' });
      expect([wrong.status, wrong.error?.code]).toEqual([401, 'UNAUTHORIZED']);
      const openAi = await postJson(local, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
      expect([openAi.status, openAi.error?.code]).toEqual([401, 'UNAUTHORIZED']);
      const right = await postJson(local, '/api/interactions/list', {}, { authorization: `Bearer ${created.key}` });
      expect(right.status).toBe(200);
      // Listening on every address with no host list, it answers to any name: the key guards it.
      expect((await postJson(local, '/api/system/health', {}, { authorization: `Bearer ${created.key}`, host: `npllm.example.org:${port}` })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
