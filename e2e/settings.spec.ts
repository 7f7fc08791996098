/**
 * Settings, language and health in the browser UI against a real `npllm serve` whose model
 * settings live in its settings.yaml (as the app writes them), so the screen may change them: the
 * language switches at once and stays, a database that does not answer is refused with what to do
 * and nothing typed is lost, a new model and context size apply when the engine reopens, and the
 * status strip follows the engine down when it dies mid-answer.
 */
import { expect, test, type Page } from '@playwright/test';
import type { Health, Settings } from '../shared/contract.js';
import { screenshot } from './screenshots.js';
import { startNpllmServer, type NpllmServer } from './server.js';

test.describe.configure({ mode: 'serial' });

let server: NpllmServer;
let page: Page;

test.beforeAll(async ({ browser }) => {
  server = await startNpllmServer({}, { settingsFile: true });
  page = await browser.newPage({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
});

const settingsNow = async () => (await (await page.request.post('/api/settings/get', { data: {} })).json()) as Settings;
const healthNow = async () => (await (await page.request.post('/api/system/health', { data: {} })).json()) as Health;

test('the settings screen shows what the engine runs with, saved in settings.yaml', async () => {
  await page.goto('/');
  await page.getByTestId('settings').click();
  await expect(page.getByTestId('settings-model')).toHaveValue('smollm2-135m');
  await expect(page.getByTestId('settings-threads')).toHaveValue('1');
  await expect(page.getByTestId('settings-max-tokens')).toHaveValue('48');
  await expect(page.getByTestId('settings-pinned')).toHaveCount(0);
  await expect(page.getByTestId('settings-database-embedded')).toBeChecked();
  await expect(page.getByTestId('settings-save')).toBeDisabled();
  await screenshot(page, 'settings');
});

test('switching the language translates the app at once, and it stays after a reload', async () => {
  await page.getByTestId('language-select').selectOption('pt-BR');
  await expect(page.getByTestId('settings')).toHaveText('Configurações');
  await expect(page.getByTestId('behaviour-tab')).toHaveText('Comportamento');
  expect(await page.evaluate('document.documentElement.lang')).toBe('pt-BR');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-saved')).toHaveText('Salvas.');
  expect((await settingsNow()).saved).toMatchObject({ ui: { language: 'pt-BR' } });
  await screenshot(page, 'settings');

  await page.reload();
  await expect(page.getByTestId('chat-tab')).toHaveText('Chat');
  await expect(page.getByTestId('learning-tab')).toHaveText('Aprendizado');
  await expect(page.getByTestId('chat-input')).toHaveAttribute('placeholder', /Faça uma pergunta/);
  await expect(page.getByTestId('projects-empty')).toContainText('Nenhum projeto');
  await screenshot(page, 'first-start');
});

test('numbers and dates follow the language', async () => {
  // A question, so the behaviour tab has a number and the sidebar a date to show.
  await page.getByTestId('chat-input').fill('O que é uma closure em Python?');
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('answer').first()).toHaveAttribute('data-status', 'done');
  const date = page.getByTestId('conversation-list').locator('.small-text').first();
  // pt-BR writes dates day/month/year: 07/12/2026.
  await expect(date).toContainText(/\d{2}\/\d{2}\/\d{4}/);
  await expect(date).toContainText('1 pergunta');
  await page.getByTestId('behaviour-tab').click();
  await expect(page.getByTestId('metric-interactions')).toContainText('Perguntas');
  await screenshot(page, 'behaviour');
});

test('a database that does not answer is refused with what to do, and the typed URL stays', async () => {
  await page.getByTestId('settings').click();
  await page.getByTestId('language-select').selectOption('en');
  await page.getByTestId('settings-database-postgres').check();
  const url = 'postgres://npllm:secret@127.0.0.1:1/npllm';
  await page.getByTestId('settings-database-url').fill(url);
  await page.getByTestId('settings-test-database').click();
  const error = page.getByTestId('settings-error');
  await expect(error).toHaveAttribute('data-code', 'DATABASE_UNAVAILABLE');
  await expect(error).not.toContainText('secret');
  await expect(error.getByTestId('error-fix')).toContainText('embedded database');
  await expect(page.getByTestId('settings-database-url')).toHaveValue(url);

  await page.getByTestId('settings-save').click();
  await expect(error).toHaveAttribute('data-code', 'DATABASE_UNAVAILABLE');
  await expect(page.getByTestId('settings-database-url')).toHaveValue(url);
  expect((await settingsNow()).values.database.url).toBeNull();

  await page.getByTestId('settings-database-embedded').check();
  await page.getByTestId('settings-test-database').click();
  await expect(page.getByTestId('settings-database-ok')).toBeVisible();
});

test('a new model and context size apply when the engine reopens', async () => {
  await page.getByTestId('settings-model').selectOption('coder-0.5b');
  await page.getByTestId('settings-context-size').fill('2048');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-reloading')).toBeVisible();
  await expect(page.getByTestId('health-model')).toContainText(/0\.5B/i);
  await expect.poll(async () => (await healthNow()).model.contextSize).toBe(2048);
  const settings = await settingsNow();
  expect(settings.values.model).toMatchObject({ name: 'coder-0.5b', contextSize: 2048 });
  expect(settings.restartPending).toBe(false);
  expect(settings.saved).toMatchObject({ ui: { language: 'en' }, model: { name: 'coder-0.5b', contextSize: 2048 } });

  // Back to the tiny model for the answer below.
  await page.getByTestId('settings').click();
  await page.getByTestId('settings-model').selectOption('smollm2-135m');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('health-model')).toContainText('SmolLM2');
});

test('an engine that dies mid-answer: the answer says so, the question stays, the strip goes down with the fix', async () => {
  await page.getByTestId('chat-tab').click();
  await page.getByTestId('new-chat').click();
  const question = 'Explain, step by step and at length, how Python generators work.';
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
  await page.locator('[data-testid="answer"][data-status="streaming"] [data-testid="answer-text"] :is(p, pre, li, h1, h2, h3)').first().waitFor();
  await server.kill();

  const answer = page.getByTestId('answer').first();
  await expect(answer).toHaveAttribute('data-status', 'error');
  await expect(answer.getByTestId('error-fix')).toContainText('npllm serve');
  await expect(page.getByTestId('question-text')).toHaveText(question);
  const health = page.getByTestId('health');
  await expect(health).toHaveAttribute('data-state', 'down');
  await expect(health.getByTestId('health-fix')).toContainText('npllm serve');
  await screenshot(page, 'engine-down');
});
