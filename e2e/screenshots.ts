/**
 * Screenshots of the real UI taken during the browser tests, for the guides in docs/guides: into
 * test-results/screenshots, or into docs/guides/images when NPLLM_SCREENSHOTS names that folder
 * (`NPLLM_SCREENSHOTS=docs/guides/images npm run test:e2e` refreshes the guides' pictures).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';

const repo = fileURLToPath(new URL('..', import.meta.url));

export async function screenshot(page: Page, name: string): Promise<void> {
  const folder = resolve(repo, process.env['NPLLM_SCREENSHOTS'] || join('test-results', 'screenshots'));
  mkdirSync(folder, { recursive: true });
  const language = (await page.evaluate<string>('document.documentElement.lang')) || 'en';
  await page.screenshot({ path: join(folder, `${name}.${language}.png`) });
}
