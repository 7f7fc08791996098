/**
 * The learning dashboard end to end: a real learning history (adapters, training runs, held-out
 * evaluations, written through the product's own queries by `seedLearningHistory`) in the data
 * folder of a real `npllm serve`, shown in Chromium. PGlite is single-process (the engine holds
 * an exclusive lock on the folder), so the history is seeded before the server starts.
 * Expected numbers come from the seeded values through `shared/learning-metrics.ts` and the
 * view's own formatters, never from the engine's answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { LearningStats } from '../shared/contract.js';
import { learningMatrix, type AdapterVersionInfo, type EvaluationCell } from '../shared/learning-metrics.js';
import { openDatabase } from '../electron/engine/db/client.js';
import { seedLearningHistory, seededProjects } from '../electron/engine/test/learning-history.js';
import { formatNll, formatPercent } from '../renderer/src/learning-format.js';
import { startNpllmServer, type NpllmServer } from './server.js';

test.describe.configure({ mode: 'serial' });

const { shop, crm, pos, hr } = seededProjects;

/** What `seedLearningHistory` writes for `odoo`, as the metrics take it (v2 has no project of its own: its run's, crm). */
const seededVersions: AdapterVersionInfo[] = [
  { version: 1, channel: 'archived', project: shop, parentVersion: null },
  { version: 2, channel: 'archived', project: crm, parentVersion: 1 },
  { version: 3, channel: 'stable', project: pos, parentVersion: 2 },
  { version: 4, channel: 'experimental', project: hr, parentVersion: 3 },
];
const seededNll: Record<number, Record<string, number>> = {
  0: { [shop]: 2.0, [crm]: 4.0, [pos]: 1.0, [hr]: 2.5 },
  1: { [shop]: 1.5, [crm]: 3.8 },
  2: { [shop]: 1.6, [crm]: 3.0 },
  3: { [shop]: 1.7, [crm]: 3.2, [pos]: 0.8 },
  4: { [shop]: 1.8, [crm]: 3.3, [pos]: 0.85, [hr]: 2.0 },
};
const seededCells: EvaluationCell[] = Object.entries(seededNll).flatMap(([version, values]) =>
  Object.entries(values).map(([project, nll]) => ({ version: Number(version), project, nll, heldOutHash: `held-out:${project}` })),
);
const expected = learningMatrix('odoo', seededVersions, seededCells);

let home: string;
let server: NpllmServer;
let page: Page;

test.beforeAll(async ({ browser }) => {
  home = mkdtempSync(join(tmpdir(), 'npllm-e2e-learning-'));
  // The same folder the server's config resolves (NPLLM_HOME/db), opened and migrated by the product.
  const database = await openDatabase({ url: null, dir: join(home, 'db') });
  try {
    await seedLearningHistory(database.db);
  } finally {
    await database.close();
  }
  server = await startNpllmServer({ HOME: home, NPLLM_HOME: home });
  page = await browser.newPage({ baseURL: server.url });
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('the seeded history, as the metrics compute it', () => {
  // The documented hand value: ((.15 − .25) + (.2 − .25)) / 2 at the stable v3.
  expect(expected.bwtVersion).toBe(3);
  expect(expected.bwt).toBeCloseTo(-0.075, 12);
  expect(expected.projects).toEqual([shop, crm, pos, hr]);
});

test('the Learning tab shows the adapters, the forgetting matrix, the BWT, the loss chart and the runs', async () => {
  await page.goto('/');
  await expect(page.getByTestId('chat-input')).toBeVisible();
  await expect(page.getByTestId('learning-view')).toHaveCount(0);

  const statsResponse = page.waitForResponse((response) => response.url().endsWith('/api/stats/learning'));
  await page.getByTestId('learning-tab').click();
  await expect(page.getByTestId('learning-tab')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('learning-view')).toBeVisible();
  // The chat is hidden, not gone.
  await expect(page.getByTestId('chat-input')).toBeHidden();
  const response = await statsResponse;
  expect(response.status()).toBe(200);
  expect(((await response.json()) as LearningStats).adapters.map((adapter) => adapter.adapter)).toEqual(['django', 'odoo']);

  // The learner, asked through the real `learning/status`: nothing to learn, so idle.
  const learner = page.getByTestId('learner-status');
  await expect(learner).toHaveAttribute('data-state', 'idle');
  await expect(learner.getByTestId('learner-state')).toHaveText('idle');
  await expect(learner.getByTestId('learner-status-error')).toHaveCount(0);
  await expect(page.getByTestId('learning-error')).toHaveCount(0);
  await expect(page.getByTestId('learning-loading')).toHaveCount(0);

  // Both adapters, in name order: odoo with its history, django with one failed run and no evaluation.
  const adapters = page.getByTestId('learning-adapter');
  await expect(adapters).toHaveCount(2);
  await expect(adapters.nth(0)).toHaveAttribute('data-adapter', 'django');
  const odoo = page.locator('[data-testid="learning-adapter"][data-adapter="odoo"]');
  await expect(odoo.getByRole('heading', { name: 'odoo' })).toBeVisible();

  // BWT: what shared/learning-metrics.ts computes for the seeded cells, formatted as the view does.
  const bwt = odoo.getByTestId('learning-bwt');
  await expect(bwt).toHaveAttribute('data-value', String(expected.bwt));
  await expect(bwt).toHaveText(`BWT ${formatPercent(expected.bwt, 'en')} at v${expected.bwtVersion}`);
  await expect(bwt).toHaveText('BWT -7.5% at v3');
  await expect(bwt).toHaveClass(/\bbad\b/);

  // The matrix: columns in the order the projects were learned, the base row then v1..v4.
  const matrix = odoo.getByTestId('forgetting-matrix');
  await expect(matrix).toBeVisible();
  await expect(matrix.getByTestId('matrix-project')).toHaveText(['shop', 'crm', 'pos', 'hr']);
  const rows = matrix.getByTestId('matrix-row');
  await expect(rows).toHaveCount(5);
  const channels = ['base', 'archived', 'archived', 'stable', 'experimental'];
  for (const [index, channel] of channels.entries()) {
    await expect(rows.nth(index)).toHaveAttribute('data-version', String(index));
    await expect(rows.nth(index)).toHaveAttribute('data-channel', channel);
  }
  expect(expected.versions.map((row) => row.channel)).toEqual(channels);
  await expect(matrix.getByTestId('matrix-cell')).toHaveCount(5 * 4);
  // The base row has no gain over itself.
  await expect(rows.nth(0).getByTestId('matrix-gain')).toHaveCount(0);
  await expect(matrix.getByTestId('matrix-gain')).toHaveCount(4 * 4);

  for (const [rowIndex, row] of expected.versions.entries()) {
    for (const [column, project] of expected.projects.entries()) {
      const nll = expected.nll[rowIndex]![column] ?? null;
      expect(nll, `v${row.version} on ${project}`).toBe(seededNll[row.version]![project] ?? null);
      const cell = matrix.locator(`[data-testid="matrix-cell"][data-version="${row.version}"][data-project="${project}"]`);
      await expect(cell).toHaveAttribute('data-nll', nll === null ? '' : String(nll));
      await expect(cell.locator('.nll')).toHaveText(formatNll(nll, 'en'));
      if (row.version > 0) await expect(cell.getByTestId('matrix-gain')).toHaveText(formatPercent(expected.gain[rowIndex]![column] ?? null, 'en'));
    }
  }
  // Spot checks against the seeded numbers written out by hand.
  await expect(matrix.locator('[data-testid="matrix-cell"][data-version="0"][data-project="/work/crm"] .nll')).toHaveText('4.000');
  await expect(matrix.locator('[data-testid="matrix-cell"][data-version="4"][data-project="/work/pos"] .nll')).toHaveText('0.850');
  await expect(matrix.locator('[data-testid="matrix-cell"][data-version="1"][data-project="/work/hr"] .nll')).toHaveText('–');
  await expect(matrix.locator('[data-testid="matrix-cell"][data-version="3"][data-project="/work/shop"] [data-testid="matrix-gain"]')).toHaveText('+15.0%');

  // Runs, newest first: kept experimental, failed, then three promotions, each with its reason.
  const runs = odoo.getByTestId('learning-run');
  await expect(runs).toHaveCount(5);
  const expectedRuns = [
    { id: 'run-5', status: 'completed', promoted: 'false', outcome: 'kept experimental', reason: 'kept experimental: /work/crm worsened by 3%' },
    { id: 'run-4', status: 'failed', promoted: '', outcome: 'failed', reason: 'The trainer stopped.' },
    { id: 'run-3', status: 'completed', promoted: 'true', outcome: 'promoted', reason: 'improved, earlier projects within tolerance' },
    { id: 'run-2', status: 'completed', promoted: 'true', outcome: 'promoted', reason: 'improved, earlier projects within tolerance' },
    { id: 'run-1', status: 'completed', promoted: 'true', outcome: 'promoted', reason: 'held-out NLL improved on /work/shop' },
  ];
  for (const [index, run] of expectedRuns.entries()) {
    const row = runs.nth(index);
    await expect(row).toHaveAttribute('data-run-id', run.id);
    await expect(row).toHaveAttribute('data-status', run.status);
    await expect(row).toHaveAttribute('data-promoted', run.promoted);
    await expect(row.getByTestId('learning-run-outcome')).toHaveText(run.outcome);
    await expect(row.getByTestId('learning-run-reason')).toHaveText(run.reason);
  }

  // The loss chart: one line per run with a loss curve (the failed run stopped after one step), oldest first.
  const chart = odoo.getByTestId('loss-chart');
  await expect(chart).toBeVisible();
  const lines = chart.getByTestId('loss-line');
  await expect(lines).toHaveCount(4);
  for (const [index, runId] of ['run-1', 'run-2', 'run-3', 'run-5'].entries()) {
    const line = lines.nth(index);
    await expect(line).toHaveAttribute('data-run-id', runId);
    // Three steps, falling (2.4, 2.1, 1.9): y grows downwards in SVG.
    const points: string = (await line.getAttribute('points')) ?? '';
    const ys = points.split(' ').map((point) => Number(point.split(',')[1]));
    expect(ys).toHaveLength(3);
    expect(ys[0]).toBeLessThan(ys[1] ?? Number.NaN);
    expect(ys[1]).toBeLessThan(ys[2] ?? Number.NaN);
  }
  await expect(chart).toContainText('3 steps');

  // django: nothing evaluated, one failed run with its error, no curve to draw.
  const django = page.locator('[data-testid="learning-adapter"][data-adapter="django"]');
  await expect(django.getByTestId('forgetting-matrix-empty')).toBeVisible();
  await expect(django.getByTestId('forgetting-matrix')).toHaveCount(0);
  await expect(django.getByTestId('learning-bwt')).toHaveAttribute('data-value', '');
  await expect(django.getByTestId('loss-chart')).toHaveCount(0);
  await expect(django.getByTestId('learning-run')).toHaveCount(1);
  await expect(django.getByTestId('learning-run')).toHaveAttribute('data-status', 'failed');
  await expect(django.getByTestId('learning-run-reason')).toHaveText('The trainer stopped.');
});

test('switching back to Chat keeps the chat usable', async () => {
  await page.getByTestId('chat-tab').click();
  await expect(page.getByTestId('chat-tab')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('learning-view')).toHaveCount(0);
  const question = page.getByTestId('chat-input');
  await expect(question).toBeVisible();
  await expect(page.getByTestId('send')).toBeDisabled();
  await question.fill('def f(): pass');
  await expect(page.getByTestId('send')).toBeEnabled();
  await question.fill('');
  await expect(page.getByTestId('health-database')).toHaveText('pglite');
});
