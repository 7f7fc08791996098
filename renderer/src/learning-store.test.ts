import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LearnerStatus } from '../../shared/contract.js';
import { NpllmError } from '../../shared/errors.js';
import { createLearningStore } from './learning-store.js';
import { idleLearner, learningStatsFixture, runningLearner } from './test/learning-fixtures.js';
import type { InvokeOptions, Transport } from './transport.js';

let requests: { method: string; request: unknown; options: InvokeOptions | undefined }[];
let learner: LearnerStatus | Error;

function transport(): Pick<Transport, 'invoke'> {
  const invoke = (method: string, request: unknown, options?: InvokeOptions) => {
    requests.push({ method, request, options });
    if (method === 'stats/learning') return Promise.resolve(learningStatsFixture);
    if (method === 'learning/status') return learner instanceof Error ? Promise.reject(learner) : Promise.resolve(learner);
    return Promise.reject(new Error(`unexpected ${method}`));
  };
  return { invoke: invoke as Transport['invoke'] };
}

const sent = (method: string) => requests.filter((request) => request.method === method);

beforeEach(() => {
  vi.useFakeTimers();
  requests = [];
  learner = idleLearner;
});
afterEach(() => vi.useRealTimers());

describe('learning store', () => {
  it('loads the stats when opened and polls the learner quietly until closed', async () => {
    const store = createLearningStore(transport(), { pollMs: 1000, runs: 7 });
    const close = store.getState().open();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState()).toMatchObject({ stats: learningStatsFixture, statsError: null, statsLoading: false, learner: idleLearner, learnerError: null });
    expect(sent('stats/learning').map((request) => request.request)).toEqual([{ runs: 7 }]);
    // Background polls never pop up the API key prompt.
    expect(sent('learning/status')[0]!.options).toEqual({ askForKey: false });

    await vi.advanceTimersByTimeAsync(3000);
    expect(sent('learning/status')).toHaveLength(4);
    close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent('learning/status')).toHaveLength(4);
    // Nothing started or ended: the stats were not asked again.
    expect(sent('stats/learning')).toHaveLength(1);
  });

  it('reloads the stats when a run starts and when it ends', async () => {
    const store = createLearningStore(transport(), { pollMs: 1000 });
    const close = store.getState().open();
    await vi.advanceTimersByTimeAsync(0);
    learner = runningLearner;
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getState().learner).toEqual(runningLearner);
    expect(sent('stats/learning')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent('stats/learning')).toHaveLength(2);
    learner = {
      ...idleLearner,
      last: {
        runId: 'run-4',
        adapter: 'odoo',
        version: 4,
        channel: 'experimental',
        nllBefore: {},
        nllAfter: {},
        promoted: false,
        reason: 'kept',
        parentVersion: 3,
        lossCurve: [],
        stats: { trainTexts: 1, replayTexts: 0, heldOutTexts: 1, steps: 1, trainTokens: 1, tokensPerSecond: 1, durationMs: 1, masLambda: 0 },
      },
    };
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent('stats/learning')).toHaveLength(3);
    close();
  });

  it('keeps the last known status and the error when the learner cannot be asked', async () => {
    const store = createLearningStore(transport(), { pollMs: 1000 });
    learner = new NpllmError('NOT_FOUND', 'Unknown method learning/status.', { fix: 'Update the engine.' });
    const close = store.getState().open();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().learner).toBeNull();
    expect(store.getState().learnerError).toMatchObject({ code: 'NOT_FOUND', message: 'Unknown method learning/status.', fix: 'Update the engine.' });
    // It goes on asking: the engine may come back.
    learner = idleLearner;
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getState()).toMatchObject({ learner: idleLearner, learnerError: null });
    learner = new Error('socket hang up');
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getState().learner).toEqual(idleLearner);
    expect(store.getState().learnerError?.message).toContain('socket hang up');
    close();
  });

  it('reports a failed stats request, and a later success clears it', async () => {
    let fail = true;
    const base = transport();
    const store = createLearningStore({
      invoke: ((method: string, request: unknown, options?: InvokeOptions) =>
        method === 'stats/learning' && fail
          ? Promise.reject(new NpllmError('DATABASE_UNAVAILABLE', 'The database is gone.'))
          : base.invoke(method as 'stats/learning', request as never, options)) as Transport['invoke'],
    });
    await store.getState().refreshStats();
    expect(store.getState()).toMatchObject({ stats: null, statsError: { code: 'DATABASE_UNAVAILABLE' }, statsLoading: false });
    fail = false;
    await store.getState().refreshStats();
    expect(store.getState()).toMatchObject({ stats: learningStatsFixture, statsError: null });
  });
});
