/**
 * The planted-secrets corpus end to end (real engine, PGlite, the real embedder): 31 credentials
 * of 30 kinds in ordinary source files and 7 secret files by name are left out of the index; the
 * same credentials pasted into questions and answers that were accepted never reach the
 * training-data export or the examples learning trains on. HARDENING.md records the counts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataExport, IndexResult } from '../shared/contract.js';
import { findSecret } from '../electron/engine/secrets/secrets.js';
import { buildTrainingData } from '../electron/engine/data-collection/training-data.js';
import { insertInteraction } from '../electron/engine/data-collection/interactions.js';
import { newInteractionId } from '../electron/engine/data-collection/ids.js';
import { chunks } from '../electron/engine/db/schema.js';
import { Engine } from '../electron/engine/engine.js';
import { tempHome, testConfig, type TempHome } from '../electron/engine/test/support.js';
import { contentSecrets, fileSecrets, type PlantedSecret } from './secrets-corpus.js';

let home: TempHome;
let engine: Engine;
let project: string;
const inContent = contentSecrets();
const byName = fileSecrets();
const all = [...inContent, ...byName];

const cleanFiles: Record<string, string> = {
  'shop/cart.py': 'def total(items):\n    """Sum of the prices."""\n    return sum(item.price * item.quantity for item in items)\n',
  'shop/tax.py': 'RATE = 0.2\n\ndef with_tax(amount):\n    return round(amount * (1 + RATE), 2)\n',
  'README.md': '# Shop\n\nRun `make dev`, then open http://localhost:8000.\n\nConfigure DATABASE_URL=postgres://user:password@localhost/shop in .env.\n',
};

function write(relativePath: string, text: string): void {
  const file = join(project, relativePath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function leaked(text: string, secrets: readonly PlantedSecret[] = all): string[] {
  return secrets.filter((secret) => text.includes(secret.value)).map((secret) => `${secret.kind} (${secret.file})`);
}

beforeAll(async () => {
  home = tempHome('npllm-hardening-secrets-');
  project = join(home.home, 'project');
  for (const secret of inContent)
    write(secret.file, `"""Module ${secret.file}."""\nimport os\n\n${secret.line}\n\n\ndef handler(event):\n    return {"ok": True, "event": event}\n`);
  for (const secret of byName) write(secret.file, `${secret.line}\n`);
  for (const [path, text] of Object.entries(cleanFiles)) write(path, text);
  engine = await Engine.open(testConfig(home.home));
});

afterAll(async () => {
  await engine?.dispose();
  home?.cleanup();
});

describe('planted secrets: 0 in the index, the export and training data', () => {
  it(`the corpus holds ${new Set(all.map((secret) => secret.kind)).size} kinds, each found by the rules`, () => {
    expect(new Set(all.map((secret) => secret.kind)).size).toBeGreaterThanOrEqual(25);
    for (const secret of inContent) expect(findSecret(secret.line), secret.kind).toMatchObject({ kind: secret.kind });
  });

  it('indexing leaves every secret file out, and no chunk holds a secret', async () => {
    const result: IndexResult = await engine.api.call('rag/index', { path: project }, { caller: 'cli' });
    expect(result.skipped['secret']).toBe(all.length);
    expect(result.secretsSkipped).toBe(all.length);
    expect(result.files).toBe(Object.keys(cleanFiles).length);
    const stored = await engine.database.db.select({ content: chunks.content }).from(chunks);
    expect(stored.length).toBeGreaterThan(0);
    expect(leaked(stored.map((chunk) => chunk.content).join('\n'))).toEqual([]);
  });

  it('secrets pasted into accepted questions, answers and edits are scrubbed from the export and the training data', async () => {
    const root = (await engine.api.call('rag/status', { path: project }, { caller: 'cli' })).root;
    for (const [index, secret] of all.entries()) {
      const id = newInteractionId();
      await insertInteraction(engine.database.db, {
        id,
        createdAt: new Date(),
        finishedAt: new Date(),
        source: 'cli',
        question: `Why does this fail?\n${secret.line}`,
        normalizedQuestion: `why does this fail ${index}`,
        history: [{ role: 'user', content: `Earlier I set ${secret.line}` }],
        project: root,
        cacheKey: `secrets-${id}`,
        answer: `Keep the value out of the code: read it from the environment instead of writing ${secret.line}`,
        status: 'completed',
        cached: false,
        model: 'test-model',
        modelFingerprint: 'test',
        adapters: [],
        timings: { ttftMs: 1, totalMs: 2, tokens: 3, promptTokens: 4, loadMs: 0 },
        retrieval: { used: false, reasons: [], sources: [] },
      });
      // Accepted answers are training targets; every other one was edited into a correction that repeats the secret.
      const event =
        index % 2 === 0 ? { type: 'inserted' as const } : { type: 'edited' as const, text: `import os\nVALUE = os.environ["X"]\n# it was:\n${secret.line}` };
      await engine.api.call('feedback/record', { interactionId: id, ...event }, { caller: 'cli' });
    }

    const data = await buildTrainingData(engine.database.db, { project: root, acceptThreshold: engine.config.feedback.acceptThreshold });
    expect(data.byKind.accepted + data.byKind.correction).toBe(all.length);
    expect(leaked(JSON.stringify(data.examples))).toEqual([]);
    expect(data.secretsScrubbed).toBeGreaterThanOrEqual(all.length * 3);
    for (const secret of all) expect(findSecret(secret.line), `${secret.kind} (${secret.file})`).not.toBeNull();

    const exported: DataExport = await engine.api.call('data/export', { project: root }, { caller: 'cli' });
    const text = readFileSync(exported.path, 'utf8');
    expect(exported.examples).toBe(data.examples.length);
    expect(leaked(text)).toEqual([]);
    expect(text).toContain('[secret removed: ');
  });
});
