import { describe, expect, it, vi } from 'vitest';
import type { AskRequest, AskResponse, Conversation, InteractionRecord } from '../../shared/contract.js';
import { createChatStore } from './store.js';
import { askResponse, healthyEngine } from './test/fixtures.js';
import type { Transport } from './transport.js';

function record(id: string, question: string, change: Partial<InteractionRecord> = {}): InteractionRecord {
  return {
    id,
    createdAt: '2026-03-01T10:00:00.000Z',
    finishedAt: '2026-03-01T10:00:02.000Z',
    source: 'desktop',
    question,
    history: [],
    project: '/home/someone/shop',
    conversationId: 'conv-1',
    clientId: null,
    answer: `answer to ${question}`,
    status: 'completed',
    error: null,
    cached: false,
    cachedFrom: null,
    model: 'm',
    modelFingerprint: 'f',
    adapters: [],
    timings: { ttftMs: 1, totalMs: 2, tokens: 3, promptTokens: 4, loadMs: 0 },
    retrieval: { used: true, reasons: ['names compute_refund'], sources: [{ path: 'shop/refund.py', startLine: 1, endLine: 3, symbol: 'compute_refund' }] },
    ...change,
  };
}

function setup() {
  const calls: { method: string; request: unknown }[] = [];
  const asks: AskRequest[] = [];
  const conversation: Conversation = {
    conversation: {
      id: 'conv-1',
      title: 'Refunds',
      project: '/home/someone/shop',
      createdAt: '2026-03-01T10:00:00.000Z',
      updatedAt: '2026-03-01T10:05:00.000Z',
      questions: 2,
    },
    interactions: [
      record('i-1', 'How is the refund computed?'),
      record('i-2', 'And when it fails?', {
        status: 'failed',
        answer: null,
        error: { name: 'NpllmError', code: 'GENERATION_FAILED', message: 'boom', fix: 'retry' },
      }),
    ],
  };
  const transport: Transport = {
    kind: 'http',
    invoke: vi.fn((method: string, request: unknown) => {
      if (method === 'system/health') return Promise.resolve(healthyEngine);
      calls.push({ method, request });
      if (method === 'conversations/get') return Promise.resolve(conversation);
      if (method === 'conversations/list') return Promise.resolve({ items: [conversation.conversation] });
      return Promise.resolve({ deleted: true });
    }) as unknown as Transport['invoke'],
    stream: () => Promise.reject(new Error('no streams')),
    ask: (request): Promise<AskResponse> => {
      asks.push(request);
      return Promise.resolve(askResponse(`re: ${request.question}`));
    },
  };
  return { store: createChatStore(transport, { dwell: { now: () => 0 } }), calls, asks };
}

describe('chat store: conversations and projects', () => {
  it('every question of a chat carries its conversation and project; another project starts another chat', async () => {
    const { store, asks, calls } = setup();
    store.getState().setProject('/home/someone/shop');
    const first = store.getState().conversationId;
    store.getState().setDraft('q1');
    await store.getState().send();
    store.getState().setDraft('q2');
    await store.getState().send();
    expect(asks.map((ask) => [ask.conversationId, ask.project])).toEqual([
      [first, '/home/someone/shop'],
      [first, '/home/someone/shop'],
    ]);
    expect(calls.filter((call) => call.method === 'conversations/list').at(-1)?.request).toEqual({ project: '/home/someone/shop' });

    store.getState().setProject('/home/someone/crm');
    expect(store.getState().turns).toEqual([]);
    expect(store.getState().conversationId).not.toBe(first);
  });

  it('reopens a stored conversation with its answers, sources and failures, and goes on in it', async () => {
    const { store, asks } = setup();
    await store.getState().openConversation('conv-1');
    const { turns } = store.getState();
    expect(turns.map((turn) => [turn.question, turn.attempts[0]!.status])).toEqual([
      ['How is the refund computed?', 'done'],
      ['And when it fails?', 'error'],
    ]);
    expect(turns[0]!.attempts[0]!.result?.retrieval.sources[0]?.symbol).toBe('compute_refund');
    expect(turns[1]!.attempts[0]!.error?.fix).toBe('retry');
    expect(store.getState()).toMatchObject({ conversationId: 'conv-1', project: '/home/someone/shop' });

    store.getState().setDraft('and for a partial return?');
    await store.getState().send();
    expect(asks.at(-1)).toMatchObject({ conversationId: 'conv-1', replyTo: null });
  });

  it('an edited question replaces its turn and the ones after it', async () => {
    const { store, asks } = setup();
    for (const question of ['q1', 'q2', 'q3']) {
      store.getState().setDraft(question);
      await store.getState().send();
    }
    const second = store.getState().turns[1]!;
    store.getState().editQuestion(second.id);
    expect(store.getState().draft).toBe('q2');
    store.getState().setDraft('q2, better');
    await store.getState().send();
    expect(store.getState().turns.map((turn) => turn.question)).toEqual(['q1', 'q2, better']);
    expect(asks.at(-1)).toMatchObject({
      question: 'q2, better',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 're: q1' },
      ],
    });
    expect(store.getState().editing).toBeNull();
  });

  it('renaming and deleting go to the engine; deleting the open conversation starts a new chat', async () => {
    const { store, calls } = setup();
    await store.getState().openConversation('conv-1');
    await store.getState().renameConversation('conv-1', 'Refund rules');
    await store.getState().deleteConversation('conv-1');
    expect(
      calls.filter((call) => call.method.startsWith('conversations/') && call.method !== 'conversations/list' && call.method !== 'conversations/get'),
    ).toEqual([
      { method: 'conversations/rename', request: { id: 'conv-1', title: 'Refund rules' } },
      { method: 'conversations/delete', request: { id: 'conv-1' } },
    ]);
    expect(store.getState().turns).toEqual([]);
    expect(store.getState().conversationId).not.toBe('conv-1');
  });
});
