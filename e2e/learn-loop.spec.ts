/**
 * Seeing npllm learn, from the app only, against a real `npllm serve` and the real trainer: open a
 * project and confirm it, "Learn now" (confirmed first) trains an adapter version with the
 * consolidation's progress in the tab, the run and its verdict appear; then the person promotes
 * that version and rolls it back, each confirmed, and the tab follows the engine's channels. The
 * judge is set so that no version earns promotion on its own (minImprovement 10 nats): every
 * version stays experimental until the person promotes it, which makes the flow deterministic.
 * Then a crash and a restart on the same data folder: the conversation and the versions remain.
 * Training is bounded by steps (10 of 64 tokens on the tiny model), never by time.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { pythonStdlib } from '../electron/engine/test/python-stdlib.js';
import { screenshot } from './screenshots.js';
import { startNpllmServer, type NpllmServer } from './server.js';

test.describe.configure({ mode: 'serial' });

let server: NpllmServer;
let page: Page;
let project: string;

const config = `learning:
  ctx: 64
  maxSteps: 10
  warmupSteps: 2
  threads: 1
  heldOutWindows: 4
  evalGroups: 2
  importanceWindows: 2
  transferProjects: 0
  minImprovement: 10
  onSwitch: false
`;

/** A pure-Python project of a few thousand lines: some of CPython's own modules. */
function writeProject(root: string): void {
  const stdlib = pythonStdlib('the learning e2e test (it copies its modules)');
  mkdirSync(join(root, 'textkit'), { recursive: true });
  writeFileSync(join(root, 'pyproject.toml'), '[project]\nname = "textkit"\nversion = "0.1.0"\n');
  for (const file of ['csv.py', 'textwrap.py', 'shlex.py', 'fnmatch.py', 'glob.py', 'string.py', 'difflib.py', 'calendar.py', 'gettext.py', 'netrc.py'])
    cpSync(join(stdlib, file), join(root, 'textkit', file));
}

test.beforeAll(async ({ browser }) => {
  server = await startNpllmServer({}, { config });
  project = join(server.home, 'projects', 'textkit');
  writeProject(project);
  page = await browser.newPage({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
});

/** The adapter card the project's runs land in (the project's stack names the adapter). */
function adapterCard(): Locator {
  return page.getByTestId('learning-adapter').filter({ has: page.getByTestId('learning-run') });
}

async function learnNow(): Promise<void> {
  await page.getByTestId('learn-now').click();
  await expect(page.getByTestId('learn-now-confirm')).toContainText('textkit');
  await page.getByTestId('learn-now-yes').click();
  // The consolidation streams its steps into the tab while it runs.
  await expect(page.getByTestId('learn-now-progress')).toBeVisible();
  await expect(page.getByTestId('learn-now-outcome')).toContainText('kept experimental');
  await expect(page.getByTestId('learn-now-progress')).toHaveCount(0);
}

test('a confirmed project is learned from the Learning tab: progress, the run and its verdict', async () => {
  await page.goto('/');
  await page.getByTestId('project-path').fill(project);
  await page.getByTestId('project-path').press('Enter');
  await expect(page.getByTestId('context-card')).toContainText('python');
  await page.getByTestId('context-confirm').click();
  const item = page.locator(`[data-testid="project-item"][data-root="${project}"]`);
  await expect(item.getByTestId('project-index-state')).toContainText('chunks indexed');

  await page.getByTestId('learning-tab').click();
  await learnNow();
  const card = adapterCard();
  await expect(card).toHaveCount(1);
  const run = card.getByTestId('learning-run').first();
  await expect(run).toHaveAttribute('data-status', 'completed');
  await expect(run).toHaveAttribute('data-promoted', 'false');
  await expect(run.getByTestId('learning-run-outcome')).toHaveText('kept experimental');
  // The held-out NLL of the new version on the project, beside the base's.
  await expect(card.locator('[data-testid="matrix-row"][data-version="1"]')).toHaveAttribute('data-channel', 'experimental');
  await screenshot(page, 'learning-run');
});

test('the person promotes the version, and a rollback with nothing before it says what to do', async () => {
  const card = adapterCard();
  await card.getByTestId('adapter-promote').click();
  await expect(card.getByTestId('channel-confirm')).toBeVisible();
  await card.getByTestId('channel-yes').click();
  await expect(card.getByTestId('channel-done')).toHaveText('v1 is stable now');
  await expect(card.locator('[data-testid="matrix-row"][data-version="1"]')).toHaveAttribute('data-channel', 'stable');

  await card.getByTestId('adapter-rollback').click();
  await card.getByTestId('channel-yes').click();
  const error = card.getByTestId('channel-error');
  await expect(error).toContainText('no version promoted before v1');
  await expect(error.getByTestId('error-fix')).toContainText('rollback');
  await expect(card.locator('[data-testid="matrix-row"][data-version="1"]')).toHaveAttribute('data-channel', 'stable');
});

test('learning again continues from it; promoting v2 and rolling back restores v1', async () => {
  await learnNow();
  const card = adapterCard();
  await expect(card.getByTestId('learning-run')).toHaveCount(2);
  await expect(card.locator('[data-testid="matrix-row"][data-version="2"]')).toHaveAttribute('data-channel', 'experimental');

  await card.getByTestId('adapter-promote').click();
  await card.getByTestId('channel-yes').click();
  await expect(card.getByTestId('channel-done')).toHaveText('v2 is stable now');
  await expect(card.locator('[data-testid="matrix-row"][data-version="2"]')).toHaveAttribute('data-channel', 'stable');

  await card.getByTestId('adapter-rollback').click();
  await expect(card.getByTestId('channel-confirm')).toBeVisible();
  await card.getByTestId('channel-yes').click();
  await expect(card.getByTestId('channel-done')).toHaveText('v1 is stable again');
  await expect(card.locator('[data-testid="matrix-row"][data-version="1"]')).toHaveAttribute('data-channel', 'stable');
  await expect(card.locator('[data-testid="matrix-row"][data-version="2"]')).not.toHaveAttribute('data-channel', 'stable');

  // What the tab shows is the engine's state: the serving channels agree.
  const listed = (await (await page.request.post('/api/adapters/list', { data: {} })).json()) as { items: { version: number; channel: string }[] };
  expect(listed.items.filter((adapter) => adapter.channel === 'stable').map((adapter) => adapter.version)).toEqual([1]);
  await screenshot(page, 'learning-rollback');
});

test('the next day: after the engine stops and starts again, the conversation and the learned versions are still there', async () => {
  await page.getByTestId('chat-tab').click();
  await page.getByTestId('chat-input').fill('What does shlex.split do?');
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('conversation-list').getByTestId('conversation-item')).toHaveCount(1);

  // A crash, not a clean stop: what the app showed must have been stored before it was shown.
  await server.kill();
  server = await startNpllmServer({}, { config, home: server.home });
  await page.goto(server.url);
  await page.locator(`[data-testid="project-item"][data-root="${project}"]`).click();
  const conversation = page.getByTestId('conversation-list').getByTestId('conversation-item');
  await expect(conversation).toHaveCount(1);
  await expect(conversation.getByTestId('conversation-title')).toHaveText('What does shlex.split do?');
  await conversation.locator('.conversation-open').click();
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('question-text')).toHaveText('What does shlex.split do?');

  await page.getByTestId('learning-tab').click();
  await expect(adapterCard().getByTestId('learning-run')).toHaveCount(2);
  await expect(adapterCard().locator('[data-testid="matrix-row"][data-version="1"]')).toHaveAttribute('data-channel', 'stable');
});
