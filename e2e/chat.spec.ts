/**
 * The chat UI end to end: a real `npllm serve` (built with `npm run build`) on a free port with a
 * fresh data folder and the shared model cache, driven in Chromium. Assertions are about
 * behaviour (streaming, cache, errors, stop), never about the model's prose.
 */
import { expect, test, type Page } from '@playwright/test';
import type { InteractionRecord } from '../shared/contract.js';
import { startNpllmServer, type NpllmServer } from './server.js';

const question = 'Write a Python function that reverses a string';

test.describe.configure({ mode: 'serial' });

let server: NpllmServer;
let baseUrl: string;
let page: Page;

async function ask(text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
}

const answers = () => page.getByTestId('answer');
/** Answer text while the answer is still streaming: polled every animation frame by `waitFor`. */
const streamingText = () => page.locator('[data-testid="answer"][data-status="streaming"] [data-testid="answer-text"] :is(p, pre)').first();

test.beforeAll(async ({ browser }) => {
  server = await startNpllmServer();
  baseUrl = server.url;
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page?.close();
  await server?.stop();
});

test('shows the engine status strip', async () => {
  await page.goto(baseUrl);
  await expect(page.getByTestId('health-model')).toContainText('SmolLM2');
  await expect(page.getByTestId('health-database')).toHaveText('pglite');
  await expect(page.getByTestId('health-loaded')).toHaveText('loads on first question');
  await expect(page.getByTestId('chat-input')).toBeFocused();
});

test('streams an answer, with model-load progress first and a meta line at the end', async () => {
  await ask(question);
  await expect(page.getByTestId('user-message')).toHaveText(question);
  // The model loads lazily on the first question, and the UI says so with a progress bar.
  await page.getByTestId('progress').waitFor({ timeout: 600_000 });
  await streamingText().waitFor({ timeout: 600_000 });
  const partial = (await page.getByTestId('answer-text').textContent()) ?? '';
  await expect(page.getByTestId('stop')).toBeVisible();

  const answer = answers().first();
  await expect(answer).toHaveAttribute('data-status', 'done');
  const final = (await page.getByTestId('answer-text').textContent()) ?? '';
  expect(final.trim().length).toBeGreaterThan(0);
  expect(final.length).toBeGreaterThanOrEqual(partial.length);
  await expect(answer.getByTestId('answer-meta')).toContainText('SmolLM2');
  await expect(answer.getByTestId('answer-meta')).toContainText(/\d+ tokens/);
  await expect(answer.getByTestId('answer-meta')).toContainText(/ttft \d/);
  await expect(answer.getByTestId('cached-badge')).toHaveCount(0);
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.getByTestId('health-loaded')).toHaveText('loaded');
  await expect(page.getByTestId('send')).toBeVisible();
});

test('the same question again is answered from the cache', async () => {
  const first = await page.getByTestId('answer-text').textContent();
  // A new chat, so the question goes without history: same context, same cache key.
  await page.getByTestId('new-chat').click();
  await expect(answers()).toHaveCount(0);
  await ask(question);
  const answer = answers().first();
  await expect(answer).toHaveAttribute('data-status', 'done');
  await expect(answer.getByTestId('cached-badge')).toBeVisible();
  await expect(answer.getByTestId('answer-text')).toHaveText(first ?? '');
});

test('an empty question cannot be sent; one over the limit shows the error and its fix', async () => {
  await page.getByTestId('new-chat').click();
  const textarea = page.getByTestId('chat-input');
  await textarea.fill('   ');
  await expect(page.getByTestId('send')).toBeDisabled();
  await textarea.press('Enter');
  await expect(answers()).toHaveCount(0);

  await textarea.fill('x'.repeat(32_001));
  await page.getByTestId('send').click();
  const error = page.getByTestId('error');
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('data-code', 'QUERY_TOO_LONG');
  await expect(error.getByTestId('error-message')).toContainText('limit is 32000');
  await expect(error.getByTestId('error-fix')).toContainText(/\S/);
  await expect(textarea).toBeEnabled();
});

test('Stop ends generation mid-answer and the chat stays usable', async ({ request }) => {
  await page.getByTestId('new-chat').click();
  const stopped = 'Explain how a hash map works, with a short example in Go.';
  await ask(stopped);
  await streamingText().waitFor();
  await page.getByTestId('stop').click();

  const answer = answers().first();
  await expect(answer).toHaveAttribute('data-status', 'cancelled');
  await expect(answer.getByTestId('stopped')).toBeVisible();
  await expect(answer.getByTestId('answer-meta')).toHaveCount(0);
  await expect(page.getByTestId('send')).toBeVisible();

  // The server noticed: generation stopped and the interaction is recorded as cancelled.
  await expect
    .poll(async () => {
      const response = await request.post(`${baseUrl}/api/interactions/list`, { data: {} });
      const { items } = (await response.json()) as { items: InteractionRecord[] };
      return items.find((item) => item.question === stopped)?.status;
    })
    .toBe('cancelled');

  await ask('What does len() return in Python?');
  await expect(answers().nth(1)).toHaveAttribute('data-status', 'done');
  await expect(answers().nth(1).getByTestId('answer-meta')).toContainText(/\d+ tokens/);
});
