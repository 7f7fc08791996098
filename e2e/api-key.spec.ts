/**
 * A server started with NPLLM_API_KEY (a VPS): the browser UI asks for the key once, remembers
 * it, and works; a wrong key is asked for again.
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

test('asks for the API key once, then works with it', async ({ page }) => {
  const prompts: string[] = [];
  page.on('dialog', (dialog) => {
    prompts.push(dialog.message());
    void dialog.accept(prompts.length === 1 ? 'wrong-key-0000000000' : apiKey);
  });
  await page.goto(server.url);
  await expect(page.getByTestId('health-database')).toHaveText('pglite');
  expect(prompts).toHaveLength(2);
  expect(prompts[0]).toContain('NPLLM_API_KEY');
  expect(prompts[1]).toContain('refused the saved API key');
  expect(await page.evaluate(() => localStorage.getItem('npllm.apiKey'))).toBe(apiKey);

  await page.reload();
  await expect(page.getByTestId('health-database')).toHaveText('pglite');
  expect(prompts).toHaveLength(2);
});
