import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FeedbackRequest } from '../../shared/contract.js';
import { createFeedbackSender, dwellEventId, newEventId } from './feedback.js';
import { feedbackAck } from './test/fixtures.js';
import { httpTransport } from './transport.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A server reached through the real HTTP transport; `outcomes` decides each call in turn. */
function server(outcomes: ('network' | 'ok' | 'not-found')[]) {
  const calls: { url: string; init: RequestInit; body: FeedbackRequest }[] = [];
  const fetchImpl = vi.fn((url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string) as FeedbackRequest;
    calls.push({ url, init, body });
    const outcome = outcomes[calls.length - 1] ?? 'ok';
    if (outcome === 'network') return Promise.reject(new TypeError('Failed to fetch'));
    const [status, payload] =
      outcome === 'ok'
        ? [200, feedbackAck(body, calls.length > 1)]
        : [
            404,
            {
              error: {
                name: 'NpllmError',
                code: 'NOT_FOUND',
                message: `No interaction with id ${body.interactionId}.`,
                fix: 'Send feedback for an interactionId returned by chat/ask.',
              },
            },
          ];
    return Promise.resolve(new Response(JSON.stringify(payload), { status, headers: { 'content-type': 'application/json' } }));
  });
  return { transport: httpTransport(fetchImpl as unknown as typeof fetch), calls };
}

describe('feedback sender', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('POSTs feedback/record with a client-made UUID eventId', async () => {
    const { transport, calls } = server(['ok']);
    const ack = await createFeedbackSender(transport).send({ interactionId: 'i-1', type: 'copied' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('/api/feedback/record');
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.body).toEqual({ interactionId: 'i-1', type: 'copied', eventId: expect.stringMatching(uuid) });
    expect(ack).toMatchObject({ eventId: calls[0]!.body.eventId, duplicate: false });
  });

  it('retries once after a network error, after a pause, with the very same event', async () => {
    vi.useFakeTimers();
    const { transport, calls } = server(['network', 'ok']);
    const warn = vi.fn();
    const sending = createFeedbackSender(transport, { warn, retryDelayMs: 1000 }).send({
      interactionId: 'i-1',
      type: 'dwell',
      value: 12.5,
      eventId: dwellEventId('i-1'),
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(sending).resolves.toMatchObject({ eventId: 'dwell-i-1' });
    expect(calls.map((call) => call.init.body)).toEqual([
      '{"interactionId":"i-1","type":"dwell","value":12.5,"eventId":"dwell-i-1"}',
      '{"interactionId":"i-1","type":"dwell","value":12.5,"eventId":"dwell-i-1"}',
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('keeps a generated eventId across its retry', async () => {
    const { transport, calls } = server(['network', 'ok']);
    await createFeedbackSender(transport, { retryDelayMs: 0 }).send({ interactionId: 'i-1', type: 'copied' });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body.eventId).toMatch(uuid);
    expect(calls[1]!.body).toEqual(calls[0]!.body);
  });

  it('gives up quietly after the retry, and never retries what the engine refused', async () => {
    const unreachable = server(['network', 'network', 'ok']);
    const warn = vi.fn();
    await expect(createFeedbackSender(unreachable.transport, { warn, retryDelayMs: 0 }).send({ interactionId: 'i-1', type: 'copied' })).resolves.toBeNull();
    expect(unreachable.calls).toHaveLength(2);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/copied feedback for interaction i-1 was not recorded \(Cannot reach the npllm server/));

    const refused = server(['not-found']);
    warn.mockClear();
    await expect(createFeedbackSender(refused.transport, { warn, retryDelayMs: 0 }).send({ interactionId: 'i-gone', type: 'regenerated' })).resolves.toBeNull();
    expect(refused.calls).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('No interaction with id i-gone'));
  });

  it('sends with keepalive when the page is leaving, and retries at once (no time to wait)', async () => {
    vi.useFakeTimers();
    const { transport, calls } = server(['network', 'ok']);
    await createFeedbackSender(transport, { retryDelayMs: 60_000 }).send(
      { interactionId: 'i-1', type: 'dwell', value: 3, eventId: 'dwell-i-1' },
      { keepalive: true },
    );
    expect(calls.map((call) => call.init.keepalive)).toEqual([true, true]);
  });
});

describe('newEventId', () => {
  it('is a v4 UUID, also where crypto.randomUUID is missing (plain HTTP by address)', () => {
    expect(newEventId()).toMatch(uuid);
    const real = globalThis.crypto;
    // What an insecure context offers: getRandomValues, no randomUUID.
    vi.stubGlobal('crypto', { getRandomValues: (array: Uint8Array) => real.getRandomValues(array) });
    try {
      expect('randomUUID' in crypto).toBe(false);
      const ids = new Set(Array.from({ length: 50 }, () => newEventId()));
      expect(ids.size).toBe(50);
      for (const id of ids) expect(id).toMatch(uuid);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(newEventId()).toMatch(uuid);
  });
});
