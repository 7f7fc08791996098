import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * End-to-end: the built web UI against a real `npllm serve` (real model, real PGlite) in Debian's
 * Chromium. One worker: the model takes a core and the machine has two.
 */
export default defineConfig({
  testDir: resolve(repo, 'e2e'),
  workers: 1,
  fullyParallel: false,
  // Hang guards, not speed checks: a busy 2-core machine may be many times slower than an idle one.
  timeout: 1_800_000,
  expect: { timeout: 600_000 },
  reporter: [['list'], ['json', { outputFile: resolve(repo, 'test-results/e2e.json') }]],
  outputDir: resolve(repo, 'test-results/e2e'),
  use: {
    browserName: 'chromium',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
