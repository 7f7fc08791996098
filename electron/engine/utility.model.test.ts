import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AskResponse, InteractionRecord } from '../../shared/contract.js';
import { Engine } from './engine.js';
import { hangGuardMs, tempHome, testConfig, type TempHome } from './test/support.js';
import { serveEngineOverPort, type EnginePortServer } from './utility.js';
import { FakeParentPort } from './test/fake-parent-port.js';

const question = 'Write a Python function that reverses a string';

describe('utility process protocol (real engine, real model)', () => {
  let home: TempHome;
  let port: FakeParentPort;
  let server: EnginePortServer;
  let nextId = 1;

  beforeAll(() => {
    home = tempHome();
    port = new FakeParentPort();
    server = serveEngineOverPort(port, Engine.open(testConfig(home.home, { rag: { allowedRoots: [home.home] } })), { onShutdown: () => undefined });
  });

  afterAll(async () => {
    await server.shutdown();
    home.cleanup();
  });

  it('streams progress and tokens, then a done event whose answer is the tokens', async () => {
    const id = nextId++;
    port.deliver({ id, method: 'chat/ask', request: { question }, stream: true });
    const end = await port.end(id);
    expect(end).toMatchObject({ id, event: { type: 'done', result: { cached: false, finishReason: expect.any(String) } } });
    const result = (end as { event: { result: AskResponse } }).event.result;

    const events = port.eventsOf(id);
    const tokens = events.flatMap((event) => (event.type === 'token' ? [event.text] : []));
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join('')).toBe(result.answer);
    // The first question loads the model lazily, and says so.
    expect(events.some((event) => event.type === 'progress' && event.progress.task === 'model-load')).toBe(true);
    expect(events.at(-1)?.type).toBe('done');
  });

  it('answers the same question from the response cache', async () => {
    const first = port.sent.find((message) => 'event' in message && message.event.type === 'done');
    const id = nextId++;
    port.deliver({ id, method: 'chat/ask', request: { question }, stream: true });
    const end = await port.end(id);
    const firstResult = (first as { event: { result: AskResponse } }).event.result;
    expect(end).toMatchObject({ id, event: { type: 'done', result: { cached: true, cachedFrom: firstResult.interactionId, answer: firstResult.answer } } });
  });

  it('answers a plain (non-streaming) ask with { id, result } and no events', async () => {
    const id = nextId++;
    port.deliver({ id, method: 'chat/ask', request: { question: 'What is a tuple in Python?', maxTokens: 8 } });
    expect(await port.end(id)).toMatchObject({ id, result: { cached: false, timings: { tokens: expect.any(Number) } } });
    expect(port.eventsOf(id)).toEqual([]);
  });

  it('cancels a running generation on { id, cancel: true } and records it as cancelled', async () => {
    const id = nextId++;
    port.deliver({ id, method: 'chat/ask', request: { question: 'Explain recursion with an example in JavaScript.', noCache: true }, stream: true });
    await port.next((message) => message.id === id && 'event' in message && message.event.type === 'token');

    port.deliver({ id, cancel: true });
    expect(await port.end(id)).toMatchObject({ id, event: { type: 'error', error: { code: 'CANCELLED' } } });

    const listId = nextId++;
    port.deliver({ id: listId, method: 'interactions/list', request: {} });
    const list = await port.end(listId);
    const items = (list as { result: { items: InteractionRecord[] } }).result.items;
    expect(items.find((item) => item.question.startsWith('Explain recursion'))?.status).toBe('cancelled');
  });

  it('streams rag/index as indexing progress and its result, and learning/consolidate as a consolidation, never as a chat answer', async () => {
    const project = join(home.home, 'shop');
    mkdirSync(project);
    writeFileSync(join(project, 'refunds.py'), 'def refund_total(order):\n    return sum(line.amount for line in order.lines if line.refunded)\n');
    const indexId = nextId++;
    port.deliver({ id: indexId, method: 'rag/index', request: { path: project }, stream: true });
    const indexed = await port.end(indexId);
    expect(indexed).toMatchObject({ id: indexId, event: { type: 'done', result: { root: project, files: 1, chunks: expect.any(Number) } } });
    const indexEvents = port.eventsOf(indexId);
    expect(indexEvents.some((event) => event.type === 'progress' && event.progress.task === 'project-index')).toBe(true);
    expect(indexEvents.some((event) => event.type === 'token')).toBe(false);

    // Without a confirmed profile the consolidation refuses, saying how to confirm one: the
    // request reached learning, not the chat.
    const learnId = nextId++;
    port.deliver({ id: learnId, method: 'learning/consolidate', request: { project }, stream: true });
    const learned = await port.end(learnId);
    expect(learned).toMatchObject({ id: learnId, event: { type: 'error', error: { fix: expect.stringContaining('context confirm') } } });
    expect(port.eventsOf(learnId).some((event) => event.type === 'token')).toBe(false);
  });

  it('refuses a second request with an id that is still running', async () => {
    const id = nextId++;
    port.deliver({ id, method: 'chat/ask', request: { question: 'Write a haiku about compilers.', noCache: true }, stream: true });
    port.deliver({ id, method: 'system/health', request: {} });
    expect(await port.next((message) => message.id === id && 'error' in message)).toMatchObject({ error: { code: 'REQUEST_INVALID' } });
    port.deliver({ id, cancel: true });
    await port.end(id);
  });

  it('shutdown cancels what is running before closing the engine', async () => {
    const id = nextId++;
    const onShutdown = vi.fn();
    const shutdownPort = new FakeParentPort();
    const shutdownHome = tempHome();
    try {
      serveEngineOverPort(shutdownPort, Engine.open(testConfig(shutdownHome.home)), { onShutdown });
      shutdownPort.deliver({ id, method: 'chat/ask', request: { question }, stream: true });
      await shutdownPort.next((message) => message.id === id && 'event' in message && message.event.type === 'token');
      shutdownPort.deliver({ shutdown: true });
      expect(await shutdownPort.end(id)).toMatchObject({ event: { type: 'error', error: { code: 'CANCELLED' } } });
      await vi.waitFor(() => expect(onShutdown).toHaveBeenCalledOnce(), { timeout: hangGuardMs });
    } finally {
      shutdownHome.cleanup();
    }
  });
});
