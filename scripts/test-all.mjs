#!/usr/bin/env node
/**
 * The whole test suite, as `npm test`: installs what tests need beyond npm packages (Debian's
 * Chromium, the model fixture, the native LoRA trainer), builds, then runs type checks, lint,
 * vitest and Playwright, and ends with one plain line `N passed, N failed` (CI reads that line,
 * not vitest's summary).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = '/usr/bin/chromium';
let passed = 0;
let failed = 0;

function run(label, command, args, env = {}) {
  process.stderr.write(`\n=== ${label}: ${[command, ...args].join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function check(label, command, args) {
  if (run(label, command, args)) passed++;
  else {
    failed++;
    process.stderr.write(`=== ${label}: FAILED\n`);
  }
}

function ensureChromium() {
  if (existsSync(chromium)) return true;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`Chromium is missing: install it with "sudo apt-get install -y chromium" (e2e tests drive ${chromium}).\n`);
    return false;
  }
  return run('install chromium', 'bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null']);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

rmSync(`${root}test-results`, { recursive: true, force: true });
mkdirSync(`${root}test-results`, { recursive: true });

const prepared =
  run('build', 'npm', ['run', 'build']) &&
  run('model fixtures', 'node', ['scripts/fetch-models.mjs']) &&
  run('native PostgreSQL fixture', 'node', ['scripts/fetch-test-postgres.mjs']);
if (!prepared) {
  failed++;
} else {
  // Only the trainer's own tests need it: a failed build fails them (with the fix), not the rest.
  if (!run('LoRA trainer (npllm-train, built from the llama.cpp node-llama-cpp ships)', 'node', ['scripts/build-trainer.mjs'])) failed++;
  check('typecheck (node)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  check('typecheck (renderer)', 'npx', ['tsc', '-p', 'tsconfig.web.json', '--noEmit']);
  check('lint', 'npx', ['eslint', '.']);
  check('format (Prettier)', 'npx', ['prettier', '--check', '.']);

  const vitestOk = run('vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=test-results/vitest.json']);
  const vitest = readJson(`${root}test-results/vitest.json`);
  if (vitest) {
    passed += vitest.numPassedTests;
    failed += vitest.numFailedTests;
    // The hardening suite (npm run test:hardening) runs in this vitest run; HARDENING.md quotes its count.
    const hardening = vitest.testResults.filter((file) => /[\\/]hardening[\\/]/.test(file.name)).flatMap((file) => file.assertionResults);
    process.stderr.write(
      `\n=== hardening suite: ${hardening.filter((test) => test.status === 'passed').length} passed, ${hardening.filter((test) => test.status === 'failed').length} failed\n`,
    );
    if (!vitestOk && vitest.numFailedTests === 0) failed++; // a failing suite outside any test (import error, hook)
  } else failed++;

  if (ensureChromium()) {
    const e2eOk = run('e2e (Playwright, Chromium)', 'npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts']);
    const e2e = readJson(`${root}test-results/e2e.json`);
    if (e2e?.stats) {
      passed += e2e.stats.expected + (e2e.stats.flaky ?? 0);
      failed += e2e.stats.unexpected;
      if (!e2eOk && e2e.stats.unexpected === 0) failed++;
    } else failed++;
  } else failed++;
}

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
