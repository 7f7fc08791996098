import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResponse, AskStreamEvent, Health, IndexResult, InteractionRecord, ProjectStatus, StreamEvent } from '../../../shared/contract.js';
import type { OpenAiChatChunk, OpenAiChatResponse } from '../../../shared/openai.js';
import { listInteractions } from '../data-collection/queries.js';
import { Engine } from '../engine.js';
import { hangGuardMs, tempHome, testConfig, type TempHome } from '../test/support.js';
import { startServer, type RunningServer } from './http-server.js';

let home: TempHome;
let engine: Engine;
let server: RunningServer;
const apiKey = 'test-key-0123456789abcdef';

beforeAll(async () => {
  home = tempHome();
  engine = await Engine.open(testConfig(home.home, { rag: { allowedRoots: [home.home] } }));
  server = await startServer(engine, { host: '127.0.0.1', port: 0, apiKey: null, maxBodyBytes: 64 * 1024, staticDir: null });
});
afterAll(async () => {
  await server.close();
  await engine.dispose();
  home.cleanup();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

describe('HTTP server (real engine, ephemeral port)', () => {
  it('reports health without loading the model', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as Health;
    expect(health).toMatchObject({ status: 'ok', database: { kind: 'pglite', ok: true }, model: { name: 'SmolLM2-135M-Instruct.Q4_1', threads: 1 } });
  });

  it('serves the OpenAPI document of the contract', async () => {
    const response = await fetch(`${server.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/chat/ask', '/api/models/pull', '/api/data/export']));
  });

  it('answers through the typed API and records the interaction', async () => {
    const response = await post('/api/chat/ask', { question: 'What is a Python list comprehension?', maxTokens: 24 });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AskResponse;
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.cached).toBe(false);
    const record = (await (await post('/api/interactions/get', { id: answer.interactionId })).json()) as InteractionRecord;
    expect(record).toMatchObject({ status: 'completed', source: 'api', answer: answer.answer });
  });

  it('streams tokens as server-sent events, ending with the recorded result', async () => {
    const response = await post('/api/chat/ask', { question: 'Show a JavaScript arrow function.', maxTokens: 24 }, { accept: 'text/event-stream' });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = sseData(await response.text()).map((data) => JSON.parse(data) as AskStreamEvent);
    const tokens = events.filter((event) => event.type === 'token');
    expect(tokens.length).toBeGreaterThan(3);
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(tokens.map((event) => event.text).join('')).toBe(done.result.answer);
  });

  it('serves OpenAI-compatible chat completions, then the repeat from the cache', async () => {
    const body = {
      model: 'anything',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Write a Python function that reverses a string' },
      ],
      max_tokens: 32,
    };
    const first = (await (await post('/v1/chat/completions', body)).json()) as OpenAiChatResponse;
    expect(first.object).toBe('chat.completion');
    expect(first.choices[0]?.message.role).toBe('assistant');
    expect(first.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(first.usage.completion_tokens).toBeGreaterThan(0);
    expect(first.usage.prompt_tokens).toBeGreaterThan(0);
    expect(first.npllm.cached).toBe(false);
    const second = (await (await post('/v1/chat/completions', body)).json()) as OpenAiChatResponse;
    expect(second.npllm.cached).toBe(true);
    expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
  });

  it('streams OpenAI chunks ending with [DONE]', async () => {
    const response = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Name three sorting algorithms.' }] }],
      stream: true,
      max_tokens: 20,
    });
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line) as OpenAiChatChunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(2);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toMatch(/stop|length/);
    expect(chunks.at(-1)?.npllm?.interactionId).toBeTruthy();
  });

  it('indexes a project over the API, streaming progress, and refuses folders outside the allowed roots', async () => {
    const project = join(home.home, 'api-project');
    mkdirSync(project);
    writeFileSync(join(project, 'main.py'), 'def main():\n    """Entry point."""\n    print("hi")\n');
    const response = await post('/api/rag/index', { path: project }, { accept: 'text/event-stream' });
    const events = sseData(await response.text()).map((data) => JSON.parse(data) as StreamEvent<IndexResult>);
    expect(events.some((event) => event.type === 'progress' && event.progress.task === 'project-index')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', result: { files: 1, chunks: 1 } });
    const status = (await (await post('/api/rag/status', { path: project })).json()) as ProjectStatus;
    expect(status).toMatchObject({ indexed: true, files: 1 });
    const outside = await post('/api/rag/index', { path: '/usr' });
    expect(outside.status).toBe(400);
  });

  it('lists the model for editors', async () => {
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe('SmolLM2-135M-Instruct.Q4_1');
  });

  it('cancels generation when the client disconnects, keeping the record', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/api/chat/ask`,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
        (res) => {
          let tokens = 0;
          res.on('data', (chunk: Buffer) => {
            tokens += (chunk.toString().match(/"type":"token"/g) ?? []).length;
            if (tokens >= 3) {
              req.destroy();
              resolve();
            }
          });
          res.on('error', () => undefined);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      req.end(JSON.stringify({ question: 'Write a very long story about a robot.', maxTokens: 400 }));
    });
    await expect.poll(async () => (await listInteractions(engine.database.db, { limit: 1 }))[0]?.status, { timeout: hangGuardMs }).toBe('cancelled');
  });
});

describe('bad requests get a JSON error naming the problem and the fix', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => post('/api/chat/ask', '{"question": '), 400, 'REQUEST_INVALID'],
    ['a wrong field type', () => post('/api/chat/ask', { question: 7 }), 400, 'REQUEST_INVALID'],
    ['an unknown field', () => post('/api/chat/ask', { question: 'hi', temprature: 1 }), 400, 'REQUEST_INVALID'],
    ['an empty question', () => post('/api/chat/ask', { question: '   ' }), 400, 'QUERY_EMPTY'],
    ['an empty streamed question', () => post('/api/chat/ask', { question: '' }, { accept: 'text/event-stream' }), 400, 'QUERY_EMPTY'],
    ['a body over the limit', () => post('/api/chat/ask', { question: 'x'.repeat(100 * 1024) }), 413, 'REQUEST_TOO_LARGE'],
    ['an unknown method', () => post('/api/chat/teleport', {}), 404, 'NOT_FOUND'],
    ['a GET on a POST route', () => fetch(`${server.url}/api/chat/ask`), 405, 'METHOD_NOT_ALLOWED'],
    ['OpenAI without messages', () => post('/v1/chat/completions', { model: 'x' }), 400, 'REQUEST_INVALID'],
    ['OpenAI ending with the assistant', () => post('/v1/chat/completions', { messages: [{ role: 'assistant', content: 'hi' }] }), 400, 'REQUEST_INVALID'],
    ['a page that was never built', () => fetch(`${server.url}/index.html`), 404, 'NOT_FOUND'],
  ];
  for (const [name, send, status, code] of cases) {
    it(name, async () => {
      const response = await send();
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string; fix?: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(body.error.fix?.length).toBeGreaterThan(5);
    });
  }
});

describe('API key', () => {
  it('guards the API but not /health when set', async () => {
    const guarded = await startServer(engine, { host: '127.0.0.1', port: 0, apiKey, maxBodyBytes: 1024, staticDir: null });
    try {
      expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
      const denied = await fetch(`${guarded.url}/api/system/health`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${guarded.url}/api/system/health`, {
        method: 'POST',
        body: '{}',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      });
      expect(allowed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('reports a port already in use', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startServer(engine, { host: '127.0.0.1', port, apiKey: null, maxBodyBytes: 1024, staticDir: null })).rejects.toThrow(/in use|EADDRINUSE/);
  });
});
