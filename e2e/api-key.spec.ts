/**
 * A server started with NPLLM_API_KEY (a VPS): the browser UI asks for the key in its own dialog
 * (never window.prompt) once the server refuses a request, remembers it, and works; a wrong key is
 * asked for again.
 */
import { expect, test } from '@playwright/test';

declare const localStorage: { getItem(key: string): string | null };
import { startNpllmServer, type NpllmServer } from './server.js';

const apiKey = 'e2e-key-0123456789abcdef';
let server: NpllmServer;

test.beforeAll(async () => {
  server = await startNpllmServer({ NPLLM_API_KEY: apiKey });
});
test.afterAll(async () => {
  await server?.stop();
});

test('asks for the API key in the app, then works with it', async ({ page }) => {
  const prompts: string[] = [];
  page.on('dialog', (dialog) => {
    prompts.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(server.url);
  const dialog = page.getByTestId('api-key-dialog');
  await expect(dialog).toHaveAttribute('data-reason', 'missing');
  await expect(dialog).toContainText('NPLLM_API_KEY');
  await page.getByTestId('api-key-input').fill('wrong-key-0000000000');
  await page.getByTestId('api-key-save').click();

  await expect(dialog).toHaveAttribute('data-reason', 'refused');
  await expect(dialog).toContainText('refused the saved API key');
  await page.getByTestId('api-key-input').fill(apiKey);
  await page.getByTestId('api-key-save').click();

  await expect(page.getByTestId('health-database')).toHaveText('pglite');
  await expect(dialog).toHaveCount(0);
  expect(prompts).toEqual([]);
  expect(await page.evaluate(() => localStorage.getItem('npllm.apiKey'))).toBe(apiKey);

  await page.reload();
  await expect(page.getByTestId('health-database')).toHaveText('pglite');
  await expect(dialog).toHaveCount(0);
});
