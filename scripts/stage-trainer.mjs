#!/usr/bin/env node
// Copies the LoRA trainer that `npm run build:trainer` built (named by .cache/trainer/manifest.json)
// to build/trainer/, where electron-builder's extraResources picks it up: a packaged app runs it
// from <resources>/trainer/npllm-train (electron/main/engine-env.ts tells the engine).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifestPath = join(root, '.cache/trainer/manifest.json');
const fail = (message) => {
  process.stderr.write(`[stage-trainer] ${message}\nFix: run "npm run build:trainer" first (needs cmake, g++, make and git).\n`);
  process.exit(1);
};
if (!existsSync(manifestPath)) fail(`${manifestPath} is missing: the trainer has not been built.`);
const { binary } = JSON.parse(readFileSync(manifestPath, 'utf8'));
if (typeof binary !== 'string' || !existsSync(binary)) fail(`the trainer named by ${manifestPath} (${binary}) is missing.`);
const target = join(root, 'build', 'trainer', process.platform === 'win32' ? 'npllm-train.exe' : 'npllm-train');
mkdirSync(join(root, 'build', 'trainer'), { recursive: true });
copyFileSync(binary, target);
chmodSync(target, 0o755);
process.stderr.write(`[stage-trainer] ${binary} → ${target}\n`);
