#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it through the "prepare" script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/electron/engine/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('npllm: the CLI is not built yet.\n  fix: run "npm install" (or "npm run build") in the npllm folder.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
// After a failure, work left running in the background (a download library retrying an
// unreachable host) must not keep the command from ending with its error.
if (process.exitCode) process.exit(process.exitCode);
