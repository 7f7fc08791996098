/**
 * The modulator on the real critical path (SmolLM2-135M, real PGlite): every answer reports its
 * plan and records it; scales reach llama.cpp and the cache key; exploration happens on uncached
 * answers only, by one bounded step; a corrupt modulator file never fails an answer; and the CLI
 * reports its status.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaContextSequence } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshLora, writeLoraAdapter } from '../adapters/gguf-writer.js';
import { readBaseModelShapes } from '../adapters/gguf.js';
import type { Logger } from '../base/log.js';
import { selectRows } from '../db/sql.js';
import { Engine } from '../engine.js';
import { projectKey } from '../learning/consolidate.js';
import { lastJson, runNpllm } from '../test/cli.js';
import { fixtureModelPath, tempHome, testConfig, testEnv, type TempHome } from '../test/support.js';
import { MixScorer } from './scorer.js';

let home: TempHome;
let project: string;
let strong: string;
let gentle: string;

beforeAll(async () => {
  home = tempHome('npllm-modulator-model-');
  project = join(home.home, 'shop');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, '__manifest__.py'), "{'name': 'shop', 'version': '17.0.1.0.0', 'depends': ['sale']}\n");
  const shapes = await readBaseModelShapes(fixtureModelPath);
  strong = join(home.home, 'strong.gguf');
  gentle = join(home.home, 'gentle.gguf');
  await writeLoraAdapter(strong, freshLora(shapes, { targets: /(attn_q|attn_v|ffn_down)\.weight$/, rank: 8, alpha: 16, b: 0.5, seed: 7 }));
  await writeLoraAdapter(gentle, freshLora(shapes, { targets: /attn_q\.weight$/, rank: 4, alpha: 8, b: 0.05, seed: 9 }));
});
afterAll(() => home.cleanup());

async function openEngine(dataHome: string, exploration: number, warnings: string[] = []): Promise<Engine> {
  const logger: Logger = { log: (level, message) => void (level === 'warn' && warnings.push(message)) };
  const engine = await Engine.open(testConfig(dataHome, { model: { temperature: 0 }, modulator: { exploration } }), { logger });
  const base = await engine.model.identify();
  for (const [file, name, scope] of [
    [strong, 'odoo', 'odoo'],
    [gentle, 'mine', 'user'],
    [gentle, 'react', 'react'],
  ] as const) {
    if ((await engine.adapters.list(name)).length) continue;
    await engine.adapters.register(file, { name, scope, baseModel: base.name, baseModelFingerprint: base.fingerprint });
    await engine.adapters.promote(name);
  }
  await engine.context.confirm(project, [{ name: 'odoo', version: '17.0' }, { name: 'python' }]);
  return engine;
}

describe('every question is planned by the modulator (real model, real PGlite)', () => {
  it('a fresh install answers as the rules did, reports the plan and records it with the interaction', async () => {
    const dataHome = join(home.home, 'fresh');
    const engine = await openEngine(dataHome, 0);
    try {
      const answer = await engine.ask({ question: 'How do I add a field to a sale order?', project, maxTokens: 8 });
      expect(answer.modulator!).toMatchObject({
        version: 0,
        source: 'network',
        retrieve: false,
        scales: { odoo: 1, mine: 1, react: 0 },
        explored: false,
        propensity: 1,
      });
      expect(answer.adapters).toEqual([
        { name: 'odoo', version: '1', scale: 1 },
        { name: 'mine', version: '1', scale: 1 },
      ]);
      const [row] = await selectRows<{ version: number; propensity: number; cached: boolean }>(
        engine.database.db,
        sql`select * from modulator_decisions where interaction_id = ${answer.interactionId}`,
      );
      expect(row).toMatchObject({ version: 0, propensity: 1, cached: false });
      const again = await engine.ask({ question: 'How do I add a field to a sale order?', project, maxTokens: 8 });
      expect(again).toMatchObject({ cached: true, modulator: { explored: false, propensity: 1 } });
    } finally {
      await engine.dispose();
    }
  });

  it('explores one step on uncached answers only, applies the explored scales, and keys the cache on them', async () => {
    const engine = await openEngine(join(home.home, 'explore'), 0.5);
    try {
      const explored = [];
      for (let index = 0; index < 12; index++) {
        const answer = await engine.ask({ question: `Write a function number ${index} for sale orders`, project, maxTokens: 4 });
        const moved = Object.entries(answer.modulator!.scales).filter(
          ([name, scale]) => scale !== ({ odoo: 1, mine: 1, react: 0 } as Record<string, number>)[name],
        );
        expect(moved.length).toBeLessThanOrEqual(1);
        for (const [, scale] of moved) expect(scale).toBe(0.5);
        expect(answer.adapters).toEqual(
          Object.entries(answer.modulator!.scales)
            .filter(([, scale]) => scale > 0)
            .map(([name, scale]) => ({ name, version: '1', scale })),
        );
        if (answer.modulator!.explored) {
          explored.push(answer);
          expect(answer.modulator!.propensity).toBeLessThan(0.5);
        } else expect(answer.modulator!.propensity).toBe(0.5);
      }
      expect(explored.length).toBeGreaterThan(0);
      // Asked again: an explored answer is found under its own scales only if the plan happens to explore alike; the greedy plan's key is looked up first.
      const repeat = await engine.ask({ question: 'Write a function number 0 for sale orders', project, maxTokens: 4 });
      if (repeat.cached) expect(repeat.modulator).toMatchObject({ explored: false, propensity: 1 });
    } finally {
      await engine.dispose();
    }
  });

  it('answers with the prior when the stable modulator file is corrupt, saying why', async () => {
    const dataHome = join(home.home, 'corrupt');
    const warnings: string[] = [];
    let engine = await openEngine(dataHome, 0);
    const saved = await engine.modulator.store.save(engine.modulator.store.prior(), { origin: 'offline', parentVersion: null, metrics: {}, reason: null });
    await engine.modulator.store.promote(saved.version, 'test');
    await engine.dispose();
    writeFileSync(join(dataHome, saved.path), '{"kind":"npllm-modulator","format":1}');
    engine = await openEngine(dataHome, 0, warnings);
    try {
      const answer = await engine.ask({ question: 'What does this widget do?', project, maxTokens: 4 });
      expect(answer.answer.length).toBeGreaterThan(0);
      expect(answer.modulator!).toMatchObject({ version: 0, source: 'prior', scales: { odoo: 1, mine: 1, react: 0 } });
      expect(answer.modulator!.reasons[0]).toMatch(/changed since it was registered/);
      expect(warnings.join('\n')).toMatch(/modulator: answering with the prior/);
    } finally {
      await engine.dispose();
    }
  });

  it('npllm --query --json and npllm modulator status --json report it', async () => {
    const dataHome = join(home.home, 'cli');
    await (await openEngine(dataHome, 0)).dispose();
    const env = testEnv(dataHome);
    const asked = await runNpllm(['--query', 'How do I add a field?', '--project', project, '--json', '--max-tokens', '4'], env);
    expect(asked.code).toBe(0);
    expect(lastJson(asked)).toMatchObject({ modulator: { version: 0, retrieve: false, scales: { odoo: 1, mine: 1, react: 0 }, reasons: expect.any(Array) } });
    const status = await runNpllm(['modulator', 'status', '--json'], env);
    expect(status.code).toBe(0);
    const json = lastJson(status);
    expect(json).toMatchObject({ version: 0, channel: 'prior', oracleGap: null, params: expect.any(Number) });
    expect(json['params'] as number).toBeGreaterThan(1_000_000);
    expect(json['recent']).toEqual([expect.objectContaining({ question: 'How do I add a field?', scales: { odoo: 1, mine: 1, react: 0 } })]);
    const learn = await runNpllm(['modulator', 'learn', '--json'], env);
    expect(learn.code).toBe(2);
    expect(learn.stderr).toMatch(/No held-out examples/);
  });
});

describe('the offline fit (real model, the oracle worker process)', () => {
  it('measures the oracle grid of a learned project in a child process, fits, registers and judges a version', async () => {
    const dataHome = join(home.home, 'offline');
    const engine = await Engine.open(testConfig(dataHome, { model: { temperature: 0 }, modulator: { exploration: 0, oracleExamples: 3 } }));
    try {
      const base = await engine.model.identify();
      for (const [file, name, scope] of [
        [strong, 'odoo', 'odoo'],
        [gentle, 'mine', 'user'],
      ] as const) {
        await engine.adapters.register(file, { name, scope, project, baseModel: base.name, baseModelFingerprint: base.fingerprint });
        await engine.adapters.promote(name);
      }
      await engine.context.confirm(project, [{ name: 'odoo', version: '17.0' }]);
      const heldOut = join(dataHome, 'learning', 'odoo', 'heldout');
      mkdirSync(heldOut, { recursive: true });
      const texts = [
        'class SaleOrder(models.Model):',
        "    _inherit = 'sale.order'",
        '    note = fields.Char()',
        '',
        '    def action_confirm(self):',
        '        return super().action_confirm()',
      ];
      writeFileSync(
        join(heldOut, `${projectKey(project)}.jsonl`),
        [0, 1, 2]
          .map((index) => JSON.stringify({ text: texts.map((line) => line.replace('note', `note${index}`)).join('\n'), unit: `models/sale${index}.py` }))
          .join('\n'),
      );
      const progress: string[] = [];
      const result = await engine.modulatorLearner.learn({ project, steps: 40 }, { onProgress: (report) => progress.push(report.label) });
      expect(result).toMatchObject({ version: 1, examples: 3 });
      expect(result.reason).toMatch(/^(promoted|kept experimental)/);
      expect(progress.join('\n')).toMatch(/Measuring the oracle for .*: 9 mixes × 3 examples/);
      const examples = await engine.modulatorLearner.oracleExamples();
      expect(examples).toHaveLength(3);
      for (const example of examples) {
        expect(example.nll).toHaveLength(9);
        for (const value of example.nll) expect(Number.isFinite(value)).toBe(true);
      }
      // Scale 0 everywhere is the base: the strong adapter at full scale must change the NLL.
      expect(examples[0]!.nll[0]).not.toBe(examples[0]!.nll[6]);
      expect((await engine.api.call('modulator/status', {}, { caller: 'cli' })).versions).toEqual([expect.objectContaining({ version: 1, origin: 'offline' })]);
    } finally {
      await engine.dispose();
    }
  });
});

describe('the oracle scorer (real model)', () => {
  it('scores a mix changed on the live context exactly as a fresh context with that mix, and scale 0 as the base', async () => {
    const live = await MixScorer.open({ modelPath: fixtureModelPath, contextSize: 512, threads: 1 });
    const fresh = await MixScorer.open({ modelPath: fixtureModelPath, contextSize: 512, threads: 1 });
    try {
      expect(live.liveScales).toBe(true);
      const example = { prompt: live.tokenize('def reverse(s):\n    """Reverse a string."""\n'), reference: live.tokenize('    return s[::-1]\n') };
      const base = await live.score(example);
      await live.setMix([{ path: strong, scale: 0 }]);
      expect(await live.score(example)).toBe(base);
      const mixes = [
        [
          { path: strong, scale: 1 },
          { path: gentle, scale: 0.5 },
        ],
        [{ path: gentle, scale: 1 }],
        [],
      ];
      const scores = [];
      for (const mix of mixes) {
        await live.setMix(mix);
        scores.push(await live.score(example));
      }
      expect(scores[0]).not.toBe(base);
      expect(scores[2]).toBe(base);
      // A scorer without the live setter recreates its context for each mix.
      (fresh as unknown as { context: Record<string, unknown> }).context._setLoras = undefined;
      await fresh.setMix(mixes[0]!);
      expect(await fresh.score(example)).toBeCloseTo(scores[0]!, 5);
    } finally {
      await live.dispose();
      await fresh.dispose();
    }
  });

  it("scores the true NLL: −log p(reference) from the model's full next-token distribution, also where the reference is not the likeliest token", async () => {
    const scorer = await MixScorer.open({ modelPath: fixtureModelPath, contextSize: 512, threads: 1 });
    try {
      await scorer.setMix([{ path: strong, scale: 1 }]);
      const prompt = scorer.tokenize('def mean(values):\n    # The arithmetic mean.\n');
      const reference = scorer.tokenize('    total = sum(values)\n    return total / len(values)\n');
      const scored = await scorer.score({ prompt, reference });
      // The same positions through the whole distribution node-llama-cpp returns.
      const sequence = (scorer as unknown as { sequence: LlamaContextSequence }).sequence;
      await sequence.clearHistory();
      const input = [...prompt, ...reference.slice(0, -1)];
      const first = prompt.length - 1;
      const out = await sequence.controlledEvaluate(
        input.map((token, index) => (index < first ? token : ([token, { generateNext: { probabilities: true } }] as const))),
      );
      let sum = 0;
      let notArgmax = 0;
      reference.forEach((token, j) => {
        const probabilities = out[first + j]!.next.probabilities!;
        sum -= Math.log(probabilities.get(token)!);
        if (Math.max(...probabilities.values()) > probabilities.get(token)!) notArgmax++;
      });
      expect(notArgmax).toBeGreaterThan(0);
      expect(scored).toBeCloseTo(sum / reference.length, 3);
    } finally {
      await scorer.dispose();
    }
  });
});
