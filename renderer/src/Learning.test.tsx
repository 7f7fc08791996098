import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LearnerStatus, LearningStats } from '../../shared/contract.js';
import { NpllmError } from '../../shared/errors.js';
import { App } from './App.js';
import { createLearningStore } from './learning-store.js';
import { idleLearner, learningStatsFixture, runningLearner } from './test/learning-fixtures.js';
import { createChatStore } from './store.js';
import { healthyEngine } from './test/fixtures.js';
import type { Transport } from './transport.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
let stats: LearningStats | Error;
let learner: LearnerStatus | Error;
let methods: string[];

beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  stats = learningStatsFixture;
  learner = idleLearner;
  methods = [];
});

afterEach(async () => {
  await run(() => root.unmount());
  container.remove();
});

async function run(change: () => unknown) {
  await act(async () => {
    change();
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

async function renderApp() {
  const answer = (value: unknown) => (value instanceof Error ? Promise.reject(value) : Promise.resolve(value));
  const transport: Transport = {
    kind: 'http',
    invoke: vi.fn((method: string) => {
      methods.push(method);
      if (method === 'system/health') return Promise.resolve(healthyEngine);
      if (method === 'conversations/list') return Promise.resolve({ items: [] });
      if (method === 'stats/learning') return answer(stats);
      if (method === 'learning/status') return answer(learner);
      return Promise.reject(new Error(`unexpected ${method}`));
    }) as Transport['invoke'],
    ask: () => Promise.reject(new Error('no questions in these tests')),
    stream: () => Promise.reject(new Error('no streams in these tests')),
  };
  // A poll far in the future: these tests look at what one round shows.
  await run(() =>
    root.render(<App store={createChatStore(transport, { dwell: { now: () => 0 } })} learning={createLearningStore(transport, { pollMs: 600_000 })} />),
  );
}

const byTestId = (id: string) => container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const allByTestId = (id: string) => [...container.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
const cell = (version: number, project: string) =>
  container.querySelector<HTMLElement>(`[data-testid="matrix-cell"][data-version="${version}"][data-project="${project}"]`)!;

describe('Learning view', () => {
  it('opens from its tab, hides the chat, and asks the engine only once open', async () => {
    await renderApp();
    expect(byTestId('learning-view')).toBeNull();
    expect(methods).not.toContain('stats/learning');
    expect(byTestId('chat-tab')!.getAttribute('aria-selected')).toBe('true');
    await run(() => byTestId('learning-tab')!.click());
    expect(byTestId('learning-view')).not.toBeNull();
    expect(byTestId('messages')!.hidden).toBe(true);
    expect(byTestId('new-chat')).toBeNull();
    expect(methods).toEqual(expect.arrayContaining(['stats/learning', 'learning/status']));
    await run(() => byTestId('chat-tab')!.click());
    expect(byTestId('learning-view')).toBeNull();
    expect(byTestId('messages')!.hidden).toBe(false);
    expect(document.activeElement).toBe(byTestId('chat-input'));
  });

  it('shows the forgetting matrix coloured per project, gain, BWT, loss curves and runs', async () => {
    await renderApp();
    await run(() => byTestId('learning-tab')!.click());
    const adapter = byTestId('learning-adapter')!;
    expect(adapter.dataset['adapter']).toBe('odoo');
    expect(allByTestId('matrix-project').map((header) => [header.textContent, header.title])).toEqual([
      ['shop', '/work/shop'],
      ['crm', '/work/crm'],
      ['pos', '/work/pos'],
    ]);
    expect(allByTestId('matrix-row').map((row) => [row.dataset['version'], row.dataset['channel']])).toEqual([
      ['0', 'base'],
      ['1', 'archived'],
      ['2', 'stable'],
      ['3', 'experimental'],
    ]);
    expect(cell(1, '/work/shop').textContent).toBe('1.500+25.0%');
    expect(cell(0, '/work/shop').textContent).toBe('2.000');
    expect(cell(1, '/work/pos').textContent).toBe('––');
    // Lowest NLL of its column greenest, highest reddest; a lone value is not coloured.
    expect(cell(1, '/work/shop').style.background).not.toBe('');
    expect(cell(1, '/work/shop').style.background).not.toBe(cell(0, '/work/shop').style.background);
    expect(cell(3, '/work/pos').style.background).not.toBe('');
    expect(cell(1, '/work/pos').style.background).toBe('');
    expect(byTestId('learning-bwt')!.textContent).toBe('BWT -5.0% at v2');
    expect(byTestId('learning-bwt')!.dataset['value']).toBe('-0.05');
    // The failed run's one-point curve draws nothing; oldest first.
    expect(allByTestId('loss-line').map((line) => line.dataset['runId'])).toEqual(['run-1', 'run-2', 'run-3']);
    const runs = allByTestId('learning-run');
    expect(runs.map((row) => [row.dataset['runId'], row.dataset['status'], row.dataset['promoted']])).toEqual([
      ['run-3', 'completed', 'false'],
      ['run-f', 'failed', ''],
      ['run-2', 'completed', 'true'],
      ['run-1', 'completed', 'true'],
    ]);
    expect(allByTestId('learning-run-outcome').map((outcome) => outcome.textContent)).toEqual(['kept experimental', 'failed', 'promoted', 'promoted']);
    expect(allByTestId('learning-run-reason').map((reason) => reason.textContent)).toEqual([
      'kept experimental: /work/crm worsened by 3%',
      'The trainer stopped.',
      'held-out NLL improved',
      'held-out NLL improved',
    ]);
    expect(byTestId('learner-status')!.dataset['state']).toBe('idle');
  });

  it('shows what the learner is doing', async () => {
    learner = runningLearner;
    await renderApp();
    await run(() => byTestId('learning-tab')!.click());
    expect(byTestId('learner-status')!.dataset['state']).toBe('running');
    expect(byTestId('learner-state')!.textContent).toBe('learning hr into odoo');
    expect(byTestId('learner-progress')!.textContent).toContain('Training step 12 of 40');
    expect(byTestId('learner-queue')!.textContent).toBe('queued: blog');
  });

  it('renders without a learner or stats: errors with their fix, and an empty history', async () => {
    learner = new NpllmError('NOT_FOUND', 'Unknown API method learning/status.', { fix: 'Update npllm.' });
    stats = { adapters: [] };
    await renderApp();
    await run(() => byTestId('learning-tab')!.click());
    expect(byTestId('learner-status')!.dataset['state']).toBe('unavailable');
    expect(byTestId('learner-status-error')!.textContent).toBe('Learner status unavailable: Unknown API method learning/status.');
    expect(byTestId('learning-empty')).not.toBeNull();

    stats = new NpllmError('DATABASE_UNAVAILABLE', 'The database is gone.', { fix: 'Restart npllm.' });
    await run(() => byTestId('learning-refresh')!.click());
    expect(byTestId('learning-error')!.dataset['code']).toBe('DATABASE_UNAVAILABLE');
    expect(byTestId('learning-error')!.textContent).toContain('Restart npllm.');
  });

  it('has no tabs when the app runs without the dashboard', async () => {
    const transport = { kind: 'http', invoke: () => Promise.resolve(healthyEngine), ask: () => Promise.reject(new Error('no')) } as unknown as Transport;
    await run(() => root.render(<App store={createChatStore(transport)} />));
    expect(byTestId('learning-tab')).toBeNull();
    expect(byTestId('new-chat')).not.toBeNull();
  });
});
