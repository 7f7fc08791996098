/**
 * Continual learning on the real model: two real code corpora learned one after the other by one
 * adapter through the product's own consolidation (`learning/consolidate`: held-out sample from
 * every held-out file, noise-aware judge, forward transfer), for several seeds.
 *
 * Per seed: learn A from the base (shared by every setting: the first project has nothing to
 * protect); then, from that version, learn B three ways — **MAS + replay** (the product), **MAS
 * only**, **naive** (λ = 0, no replay); and a **control**: an adapter of the same rank and steps
 * trained on unrelated code (C, Python's asyncio), measured on A and B, so that what is credited to
 * A is A's and not Python's. Forward transfer to B is what the product measures when it learns A
 * (B is indexed, not yet learned). Held-out function completion on A (signature + docstring + the
 * file's preceding lines → body; greedy raw completion; edit similarity and exact match) with the
 * base, the adapter after A and after B. Then, with the serving model loaded: time to first token
 * while a consolidation trains (paused by the learner, and a trainer nobody pauses), and the total
 * memory of serving + training + embedder + database.
 *
 *   node dist/bench/learning.js [--model coder-0.5b] [--seeds 1,2,3] [--steps 80] [--settings mas-replay,mas,naive]
 *       [--held-out-windows 32] [--functions 16] [--completion-tokens 96] [--asks 3] [--threads N] [--lambda 100]
 *       [--replay 0.25] [--files-b 40] [--parts DIR] [--skip-serving] [--out bench/results]
 *
 * `--parts DIR` keeps each seed's result in DIR/seed-N.json and skips seeds already there, so a long
 * run can be split into invocations and summarised at the end; invocations of different seeds may
 * run at the same time (one trainer thread each: on 2 cores, more work per second than one
 * invocation with 2 threads), sharing the corpora and the caches. The
 * base model's scores and completions are cached in <shared cache>/bench-learning (they are the
 * same for every seed). The last stdout line is the JSON summary; plots go to learning.png.
 *
 * Corpus A: four of OCA's Odoo 14 addons (PyPI wheels, pinned), Python models and XML views.
 * Corpus B: ESLint's rule modules (node_modules/eslint/lib/rules, every k-th file): JavaScript.
 * Corpus C (control): CPython's asyncio package (/usr/lib/python3.*), cut to A's size.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { meanAndSpread } from '../shared/learning-metrics.js';
import { loadConfig, type Config } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { learningThreads } from '../electron/engine/learning/consolidate.js';
import { frozenHeldOut } from '../electron/engine/learning/held-out.js';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { fixtureModelsDir, sharedCacheDir } from '../electron/engine/test/support.js';
import { completeFunctions, pickFunctions, pythonFunctions, type CompletionScore, type HeldOutFunction } from './learning-completion.js';
import { loadAverage, positiveIntFlag, progress, round, table } from './measure.js';
import { heatmapSvg, lineChartSvg, savePng } from './plot.js';
import { corpora, mergeScores, writeAtomically, type Projects } from './learning-corpora.js';
import { rssWatcher, servingWhileTraining } from './learning-serving.js';
import {
  collect,
  meanCurve,
  pm,
  projectLabel,
  settingLabels,
  settingNames,
  smooth,
  spread,
  type CompletionSummary,
  type Learned,
  type SeedResult,
  type Setting,
} from './learning-summary.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    seeds: { type: 'string' },
    steps: { type: 'string' },
    settings: { type: 'string' },
    'held-out-windows': { type: 'string' },
    functions: { type: 'string' },
    'completion-tokens': { type: 'string' },
    asks: { type: 'string' },
    threads: { type: 'string' },
    lambda: { type: 'string' },
    replay: { type: 'string' },
    'files-b': { type: 'string' },
    parts: { type: 'string' },
    'skip-serving': { type: 'boolean' },
    out: { type: 'string' },
  },
});
const modelArg = flags.model ?? 'coder-0.5b';
const seeds = (flags.seeds ?? '1,2,3').split(',').map((seed) => positiveIntFlag('seeds', seed.trim(), 1));
const steps = positiveIntFlag('steps', flags.steps, 80);
const settings = (flags.settings ?? settingNames.join(',')).split(',').map((name) => {
  if (!(settingNames as readonly string[]).includes(name)) throw new Error(`--settings: unknown setting "${name}" (expected ${settingNames.join(', ')}).`);
  return name as Setting;
});
const heldOutWindows = positiveIntFlag('held-out-windows', flags['held-out-windows'], 32);
const functionCount = flags.functions === '0' ? 0 : positiveIntFlag('functions', flags.functions, 16);
const completionTokens = positiveIntFlag('completion-tokens', flags['completion-tokens'], 96);
const asks = positiveIntFlag('asks', flags.asks, 3);
const threads = flags.threads ? positiveIntFlag('threads', flags.threads, 1) : learningThreads(null);
const lambda = flags.lambda ? Number(flags.lambda) : 100;
const replayRatio = flags.replay ? Number(flags.replay) : 0.25;
const filesB = positiveIntFlag('files-b', flags['files-b'], 40);
const outDir = flags.out ?? join(packageRoot, 'bench', 'results');
const modelsDir = process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir;
const modelPath = findCatalogueEntry(modelArg) ? join(modelsDir, findCatalogueEntry(modelArg)!.fileName) : modelArg;
const modelTag = (findCatalogueEntry(modelArg)?.id ?? modelArg.split('/').at(-1)!).replace(/[^\w.-]+/g, '_');
const benchCache = join(sharedCacheDir, 'bench-learning');
const scoresCache = join(benchCache, 'scores');
const adapter = 'bench';

const settingOverrides: Record<Setting, Partial<Config['learning']>> = {
  'mas-replay': { masLambda: lambda, replayRatio },
  mas: { masLambda: lambda, replayRatio: 0 },
  naive: { masLambda: 0, replayRatio: 0 },
};

function configFor(home: string, overrides: Partial<Config['learning']>, model: Partial<Config['model']> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      home,
      log: { level: 'warn' },
      model: { path: modelPath, cacheDir: modelsDir, threads: 1, maxTokens: 4, ...model },
      learning: { maxSteps: steps, threads, heldOutWindows, transferProjects: 1, ...overrides },
    },
  });
}

async function withEngine<T>(home: string, overrides: Partial<Config['learning']>, work: (engine: Engine) => Promise<T>): Promise<T> {
  mergeScores(scoresCache, join(home, 'learning', 'scores'));
  const engine = await Engine.open(configFor(home, overrides), { prepareModel: false });
  try {
    return await work(engine);
  } finally {
    await engine.dispose();
    mergeScores(join(home, 'learning', 'scores'), scoresCache);
  }
}

async function learn(engine: Engine, label: string, project: string, name: string, seed: number): Promise<Learned> {
  const rss = rssWatcher();
  let lastLabel = '';
  const started = Date.now();
  const result = await engine.learner.consolidate(
    { project, adapter: name, seed },
    {
      onTrainer: rss.onTrainer,
      onProgress: (report) => {
        if (report.label !== lastLabel && /step \d*0\/|judging|measuring the new|importance,? window 1\//.test(report.label))
          progress(`${label}: ${report.label}`);
        lastLabel = report.label;
      },
    },
  );
  progress(`${label}: v${result.version} ${result.channel}: ${result.reason}`);
  const stats = (await engine.api.call('stats/learning', { adapter: name }, { caller: 'cli' })).adapters[0]!;
  return { result, trainerRssMb: rss.peakMb(), seconds: (Date.now() - started) / 1000, stats };
}

/** A's held-out Python functions, from the files the product froze as A's held-out set. */
async function heldOutFunctions(home: string, project: string): Promise<HeldOutFunction[]> {
  const frozen = await frozenHeldOut(home, adapter, project);
  if (!frozen) throw new Error(`No frozen held-out set for ${project} in ${home}.`);
  const files = [...frozen.units].filter((unit) => unit.endsWith('.py')).sort();
  const all = files.flatMap((file) =>
    pythonFunctions(file, readFileSync(join(project, file), 'utf8'), { contextChars: 1500, minBodyLines: 1, maxBodyLines: 12, maxBodyChars: 360 }),
  );
  return pickFunctions(all, functionCount, 20_260_101);
}

function summariseCompletion(scores: readonly CompletionScore[]): CompletionSummary {
  return {
    editSimilarity: scores.reduce((sum, score) => sum + score.editSimilarity, 0) / Math.max(1, scores.length),
    exactMatch: scores.filter((score) => score.exactMatch).length / Math.max(1, scores.length),
    n: scores.length,
  };
}

class Completer {
  private loaded:
    | Promise<{ dispose: () => Promise<void>; complete: (adapterFile: string | null, functions: readonly HeldOutFunction[]) => Promise<CompletionScore[]> }>
    | undefined;

  async complete(adapterFile: string | null, functions: readonly HeldOutFunction[]): Promise<CompletionSummary | null> {
    if (functions.length === 0) return null;
    this.loaded ??= (async () => {
      const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
      const model = await llama.loadModel({ modelPath });
      return {
        dispose: () => llama.dispose(),
        complete: (file: string | null, fns: readonly HeldOutFunction[]) =>
          completeFunctions(model, file, fns, { maxTokens: completionTokens, threads, contextSize: 2048 }),
      };
    })();
    return summariseCompletion(await (await this.loaded).complete(adapterFile, functions));
  }

  async dispose(): Promise<void> {
    if (this.loaded) await (await this.loaded).dispose();
    this.loaded = undefined;
  }
}

function adapterFile(home: string, learned: Learned): string {
  return join(home, 'adapters', learned.result.adapter, `v${learned.result.version}.gguf`);
}

async function runSeed(
  seed: number,
  scratch: string,
  home0: string,
  projects: Projects,
  completer: Completer,
  known: HeldOutFunction[] | null,
): Promise<SeedResult> {
  const homeA = join(scratch, `seed${seed}-a`);
  cpSync(home0, homeA, { recursive: true });
  const a = await withEngine(homeA, {}, (engine) => learn(engine, `seed ${seed}: A`, projects.a, adapter, seed));
  // A's held-out files, frozen by the product at this first consolidation: the same split in every seed.
  const functions = known ?? (await heldOutFunctions(homeA, projects.a));
  if (!known) progress(`${functions.length} held-out functions for completion (${functions.filter((fn) => fn.hasDocstring).length} with a docstring)`);
  const afterA = await completer.complete(adapterFile(homeA, a), functions);
  const b: Partial<Record<Setting, Learned>> = {};
  const afterB: Partial<Record<Setting, CompletionSummary>> = {};
  for (const setting of settings) {
    const homeB = join(scratch, `seed${seed}-b-${setting}`);
    cpSync(homeA, homeB, { recursive: true });
    const learned = await withEngine(homeB, settingOverrides[setting], (engine) =>
      learn(engine, `seed ${seed}: B ${settingLabels[setting]}`, projects.b, adapter, seed),
    );
    b[setting] = learned;
    const completion = await completer.complete(adapterFile(homeB, learned), functions);
    if (completion) afterB[setting] = completion;
    rmSync(homeB, { recursive: true, force: true });
  }
  const homeC = join(scratch, `seed${seed}-control`);
  cpSync(home0, homeC, { recursive: true });
  const control = await withEngine(homeC, { transferProjects: 2 }, async (engine) => {
    await engine.rag.index(projects.c);
    return learn(engine, `seed ${seed}: control`, projects.c, 'control', seed);
  });
  rmSync(homeC, { recursive: true, force: true });
  rmSync(homeA, { recursive: true, force: true });
  return { seed, model: modelTag, steps, heldOutWindows, a, b, control, completion: { afterA, afterB }, functions };
}

/** Base-model completions are the same for every seed: cached per model and function set. */
async function baseCompletion(completer: Completer, functions: HeldOutFunction[]): Promise<CompletionSummary | null> {
  if (functions.length === 0) return null;
  const key = createHash('sha256').update(JSON.stringify({ modelPath, completionTokens, functions })).digest('hex').slice(0, 16);
  const file = join(benchCache, `completion-${modelTag}-${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as CompletionSummary;
  const summary = await completer.complete(null, functions);
  mkdirSync(benchCache, { recursive: true });
  writeAtomically(file, JSON.stringify(summary));
  return summary;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Fixed folders: the held-out split hashes the project's path, so every invocation sees the same split and the score cache stays valid.
  const corpusRoot = join(tmpdir(), 'npllm-bench-learning-corpora');
  const projects = corpora(corpusRoot, filesB);
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-bench-learning-'));
  const partsDir = flags.parts;
  const completer = new Completer();
  const loadStart = loadAverage();
  try {
    progress(
      `load average ${loadStart}; ${modelTag}, seeds ${seeds.join(',')}, ${steps} steps, ${threads} trainer thread(s), λ ${lambda}, replay ${replayRatio}, ${heldOutWindows} held-out windows`,
    );
    const home0 = join(scratch, 'home0');
    await withEngine(home0, {}, async (engine) => {
      for (const project of [projects.a, projects.b]) {
        progress(`indexing ${projectLabel(project, projects)}`);
        await engine.rag.index(project);
      }
    });

    const results: SeedResult[] = [];
    let functions: HeldOutFunction[] | null = null;
    for (const seed of seeds) {
      const part = partsDir ? join(partsDir, `seed-${seed}.json`) : null;
      if (part && existsSync(part)) {
        const saved = JSON.parse(readFileSync(part, 'utf8')) as SeedResult;
        if (saved.model === modelTag && saved.steps === steps && saved.heldOutWindows === heldOutWindows) {
          progress(`seed ${seed}: from ${part}`);
          results.push(saved);
          functions ??= saved.functions;
          continue;
        }
      }
      const result = await runSeed(seed, scratch, home0, projects, completer, functions);
      functions = result.functions;
      results.push(result);
      if (part) {
        mkdirSync(dirname(part), { recursive: true });
        writeAtomically(part, JSON.stringify(result));
      }
    }
    const completionBase = functions ? await baseCompletion(completer, functions) : null;
    await completer.dispose();

    const serving = flags['skip-serving']
      ? null
      : await servingWhileTraining(join(scratch, 'home0'), projects, {
          config: (learning, model) => configFor(join(scratch, 'home0'), learning, model),
          prepareHome: () => mergeScores(scoresCache, join(scratch, 'home0', 'learning', 'scores')),
          asks,
          threads,
        });
    const metrics = collect(results, projects, settings);
    const loadEnd = loadAverage();

    process.stdout.write(
      `${table(
        [
          'B learned with',
          'gain A after A',
          'control on A',
          'A after B vs base',
          'BWT',
          'gain B',
          'B promoted',
          'A forgotten',
          'completion ES base → A → B',
          'EM base → A → B',
        ],
        settings.map((setting) => {
          const row = metrics.perSetting[setting];
          return [
            settingLabels[setting],
            pm(metrics.gainA),
            pm(metrics.controlGainA),
            pm(row.nllAVsBase),
            pm(row.bwt),
            pm(row.gainB),
            `${row.promoted.reduce((s, v) => s + v, 0)}/${row.promoted.length}`,
            `${row.forgotten.reduce((s, v) => s + v, 0)}/${row.forgotten.length}`,
            `${completionBase ? completionBase.editSimilarity.toFixed(3) : '–'} → ${pm(metrics.completionAfterA.es)} → ${pm(row.es)}`,
            `${completionBase ? completionBase.exactMatch.toFixed(3) : '–'} → ${pm(metrics.completionAfterA.em)} → ${pm(row.em)}`,
          ];
        }),
      )}\n`,
    );
    process.stdout.write(
      `seeds ${results.map((result) => result.seed).join(', ')}; mean ± sample sd. Gains are shares of the base model's held-out NLL; BWT = gain on A after B − gain on A after A.\n`,
    );
    process.stdout.write(
      `A's gain, one seed's standard error from its held-out groups: ${pm(metrics.gainASe, 4)}; control (asyncio) on B: ${pm(metrics.controlGainB)}\n`,
    );
    process.stdout.write(
      `forward transfer to B (v1 after A vs the base, before B is learned): ${pm(metrics.transferB)} (gain; standard error ${pm(metrics.transferBSe, 4)}; significantly worse in ${metrics.transferBWorse.reduce((s, v) => s + v, 0)}/${metrics.transferBWorse.length})\n`,
    );
    process.stdout.write(
      `consolidation wall time: A ${pm(metrics.aSeconds, 0)} s; B ${settings.map((setting) => `${settingLabels[setting]} ${pm(metrics.perSetting[setting].seconds, 0)} s`).join(', ')}; training ${pm(metrics.tokensPerSecond, 1)} tok/s, trainer peak RSS ${pm(metrics.trainerRssMb, 0)} MB\n`,
    );
    if (serving) {
      process.stdout.write(
        `TTFT idle ${round(serving.idle)} ms; while training (learner pauses it) ${round(serving.paused)} ms; unpaused trainer ${round(serving.unpaused)} ms\n`,
      );
      process.stdout.write(
        `peak memory during a consolidation: ${round(serving.memory.total)} MB (engine: model, embedder, PGlite ${round(serving.memory.engine)} MB + trainer ${round(serving.memory.trainer)} MB)\n`,
      );
    }
    for (const result of results) {
      process.stdout.write(`seed ${result.seed}: A: ${result.a.result.reason}\n`);
      for (const setting of settings)
        if (result.b[setting]) process.stdout.write(`seed ${result.seed}: B ${settingLabels[setting]}: ${result.b[setting].result.reason}\n`);
    }

    const png = join(outDir, 'learning.png');
    mkdirSync(dirname(png), { recursive: true });
    const curves = lineChartSvg({
      title: `Training loss per step, mean of ${results.length} seeds (trailing mean of 10)`,
      xLabel: 'step',
      yLabel: 'loss (nats/token)',
      series: [
        { name: 'A (from the base)', points: smooth(meanCurve(results.map((result) => result.a.result.lossCurve)), 10).map((y, x) => ({ x: x + 1, y })) },
        ...settings.map((setting) => ({
          name: `B, ${settingLabels[setting]}`,
          points: smooth(meanCurve(results.map((result) => result.b[setting]?.result.lossCurve ?? [])), 10).map((y, x) => ({ x: x + 1, y })),
        })),
        { name: 'C control', points: smooth(meanCurve(results.map((result) => result.control.result.lossCurve)), 10).map((y, x) => ({ x: x + 1, y })) },
      ],
    });
    const path = lineChartSvg({
      title: "A's held-out NLL relative to the base (mean of seeds)",
      xLabel: '0 = base, 1 = after A, 2 = after B',
      yLabel: 'NLL / base NLL − 1',
      series: settings.map((setting) => ({
        name: settingLabels[setting],
        points: [
          { x: 0, y: 0 },
          { x: 1, y: -(meanAndSpread(metrics.gainA)?.mean ?? 0) },
          { x: 2, y: meanAndSpread(metrics.perSetting[setting].nllAVsBase)?.mean ?? 0 },
        ],
      })),
    });
    // Gain over the base per cell, first seed: the forgetting matrix with the not-yet-learned project's column.
    const first = results[0]!;
    const matrices = settings
      .filter((setting) => first.b[setting])
      .map((setting) => {
        const stats = first.b[setting]!.stats;
        return heatmapSvg({
          title: `Gain over the base, ${settingLabels[setting]} (seed ${first.seed})`,
          rowLabels: stats.versions.map((version) =>
            version.version === 0 ? 'base' : `v${version.version} after ${projectLabel(version.project ?? '', projects)}`,
          ),
          columnLabels: stats.projects.map((project) => `NLL on ${projectLabel(project, projects)}`),
          values: stats.gain,
          format: (value) => `${(value * 100).toFixed(1)} %`,
        });
      });
    await savePng(png, [curves, path, ...matrices], { columns: 3 });
    progress(`plots: ${png}`);

    const summary = {
      model: modelTag,
      seeds: results.map((result) => result.seed),
      steps,
      threads,
      lambda,
      replayRatio,
      heldOutWindows,
      gainA: spread(metrics.gainA),
      gainAStandardError: spread(metrics.gainASe),
      controlGainA: spread(metrics.controlGainA),
      controlGainB: spread(metrics.controlGainB),
      forwardTransferB: spread(metrics.transferB),
      settings: Object.fromEntries(
        settings.map((setting) => {
          const row = metrics.perSetting[setting];
          return [
            setting,
            {
              nllAVsBase: spread(row.nllAVsBase),
              bwt: spread(row.bwt),
              gainB: spread(row.gainB),
              promoted: row.promoted,
              aForgotten: row.forgotten,
              completionEditSimilarity: spread(row.es),
              completionExactMatch: spread(row.em),
              consolidationSeconds: spread(row.seconds),
            },
          ];
        }),
      ),
      completion: {
        functions: functions?.length ?? 0,
        maxTokens: completionTokens,
        base: completionBase,
        afterA: { editSimilarity: spread(metrics.completionAfterA.es), exactMatch: spread(metrics.completionAfterA.em) },
      },
      consolidationSecondsA: spread(metrics.aSeconds),
      trainTokensPerSecond: spread(metrics.tokensPerSecond),
      trainRssMb: spread(metrics.trainerRssMb),
      ...(serving
        ? {
            ttftIdleMs: round(serving.idle),
            ttftRatio: round(serving.paused / serving.idle, 2),
            ttftRatioUnpaused: round(serving.unpaused / serving.idle, 2),
            totalMemoryMb: round(serving.memory.total),
            engineRssMb: round(serving.memory.engine),
            trainerRssDuringServingMb: round(serving.memory.trainer),
          }
        : {}),
      plot: png,
      loadAverage: { start: loadStart, end: loadEnd },
      seconds: round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await completer.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
