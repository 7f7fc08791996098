/** Engine replies for renderer tests, shaped exactly as the contract says. */
import type { AskResponse, FeedbackAck, FeedbackRequest, Health } from '../../../shared/contract.js';

export const healthyEngine: Health = {
  status: 'ok',
  version: '0.1.0',
  uptimeSeconds: 3,
  model: { name: 'SmolLM2-135M-Instruct.Q4_1', loaded: false, threads: 1, contextSize: 4096 },
  database: { kind: 'pglite', ok: true, error: null },
};

export function askResponse(answer: string, cached = false): AskResponse {
  return {
    interactionId: `i-${answer}`,
    answer,
    cached,
    cachedFrom: cached ? 'i-first' : null,
    model: 'SmolLM2-135M-Instruct.Q4_1',
    adapters: [],
    timings: { ttftMs: 120, totalMs: 800, tokens: 7, promptTokens: 20, loadMs: 0 },
    finishReason: 'stop',
    retrieval: { used: false, reasons: ['no project is set'], sources: [] },
    modulator: { version: 0, retrieve: false, scales: {}, reasons: [], source: 'network', explored: false, propensity: 1 },
    conversationId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

export function feedbackAck(request: FeedbackRequest, duplicate = false): FeedbackAck {
  return {
    eventId: request.eventId ?? 'evt-generated',
    duplicate,
    reward: { interactionId: request.interactionId, reward: 0.1, components: { [request.type]: 0.1 }, events: 1 },
  };
}
