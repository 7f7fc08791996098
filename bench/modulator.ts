/**
 * The modulator benchmark (issue 12; BENCHMARKS.md "Modulator"):
 *
 *   npm run bench:modulator -- [--model coder-0.5b] [--adapters django,node,rust,user] [--steps 120] [--files 60]
 *       [--examples 30] [--seeds 3] [--fit-steps 600] [--questions 20] [--sessions 10] [--threads N]
 *       [--ttft-model coder-1.5b] [--skip retrieval,online,ttft] [--until train|grid]
 *
 * 1. Adapter mixes: one adapter per real corpus (Django, ESLint's JavaScript, pydantic-core's Rust;
 *    `user` on four Odoo addons), trained by npllm-train; the NLL of held-out references under every
 *    mix of off/half/full per adapter (the oracle); the modulator fitted to half of the held-out files
 *    and judged on the other half, against the base, today's rule, all adapters at 1 and the best
 *    single adapter.
 * 2. Retrieval: labels from "did the retrieved code lower the reference's NLL", rule vs modulator.
 * 3. Online: a simulated user with hidden preferences over sessions.
 * 4. Cost: forward, update, the plan, and a change of scales in the model.
 *
 * Trained adapters, the NLL grid and the retrieval labels are cached in .cache/bench-modulator/<model>/,
 * so a run interrupted after a stage resumes there. The last stdout line is one JSON object.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../electron/engine/base/paths.js';
import { loadConfig } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { learningThreads } from '../electron/engine/learning/consolidate.js';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { defaults as networkDefaults } from '../electron/engine/modulator/network.js';
import { MixScorer } from '../electron/engine/modulator/scorer.js';
import { pythonStdlib } from '../electron/engine/test/python-stdlib.js';
import { fixtureModelsDir } from '../electron/engine/test/support.js';
import { corpora } from './modulator-corpora.js';
import { networkCost, planCost, switchCost, type SwitchCost } from './modulator-cost.js';
import { evaluateMixes, heldOutExamples, measureGrid, trainAdapters } from './modulator-mix.js';
import { simulate } from './modulator-online.js';
import { evaluateRetrieval, label, questions, type LabelledQuestion } from './modulator-retrieval.js';
import { loadAverage, positiveIntFlag, progress, round, table } from './measure.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    adapters: { type: 'string' },
    steps: { type: 'string' },
    files: { type: 'string' },
    examples: { type: 'string' },
    seeds: { type: 'string' },
    'fit-steps': { type: 'string' },
    questions: { type: 'string' },
    sessions: { type: 'string' },
    threads: { type: 'string' },
    'ttft-model': { type: 'string' },
    skip: { type: 'string' },
    until: { type: 'string' },
  },
});
const modelId = flags.model ?? 'coder-0.5b';
const only = flags.adapters ? flags.adapters.split(',') : null;
const steps = positiveIntFlag('steps', flags.steps, 120);
const files = positiveIntFlag('files', flags.files, 60);
const perCorpus = positiveIntFlag('examples', flags.examples, 30);
const seeds = positiveIntFlag('seeds', flags.seeds, 3);
const fitSteps = positiveIntFlag('fit-steps', flags['fit-steps'], 600);
const perKind = positiveIntFlag('questions', flags.questions, 20);
const sessions = positiveIntFlag('sessions', flags.sessions, 10);
const threads = flags.threads ? positiveIntFlag('threads', flags.threads, 1) : learningThreads(null);
const ttftModel = flags['ttft-model'] ?? 'coder-1.5b';
const skip = new Set((flags.skip ?? '').split(',').filter(Boolean));
/** `train` or `grid`: stop once that stage is cached (a long run split into turns on a shared machine). */
const until = flags.until;

async function main(): Promise<void> {
  const entry = findCatalogueEntry(modelId);
  if (!entry) throw new Error(`--model ${modelId} is not a catalogue model.`);
  const modelsDir = process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir;
  const modelPath = join(modelsDir, entry.fileName);
  const cache = join(packageRoot, '.cache', 'bench-modulator', modelId);
  mkdirSync(cache, { recursive: true });
  const loadAtStart = loadAverage();
  progress(`load average ${loadAtStart}; ${modelId}, ${threads} thread(s), ${steps} training steps per adapter`);

  const all = corpora(files).filter((corpus) => !only || only.includes(corpus.adapter));
  const adapters = await trainAdapters(all, { cache, modelPath, steps, threads });
  if (until === 'train') return;
  const shape = { ...networkDefaults(), levels: 3 };
  const prior = { levels: 3, maxScale: 1, strength: 3, defaultScale: 1, maxActive: 4 };

  const scorer = await MixScorer.open({ modelPath, contextSize: 4096, threads });
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-bench-modulator-'));
  const config = loadConfig({
    env: { ...process.env, NPLLM_MODELS_DIR: modelsDir },
    overrides: { home: join(scratch, 'home'), log: { level: 'warn' }, model: { path: modelPath, threads, maxTokens: 4 } },
  });
  const engine = await Engine.open(config, { prepareModel: false });
  const results: Record<string, unknown> = {
    model: modelId,
    adapters: adapters.map((adapter) => ({ name: adapter.name, steps: adapter.steps, tokensPerSecond: round(adapter.tokensPerSecond, 1) })),
  };
  try {
    const examples = heldOutExamples(all, scorer, perCorpus, { prompt: 48, reference: 64 });
    progress(`${examples.length} held-out examples; measuring ${3 ** adapters.length} mixes`);
    const { grid, nll } = await measureGrid(scorer, adapters, examples, {
      file: join(cache, `grid-${steps}-${perCorpus}-${adapters.map((adapter) => adapter.name).join('+')}.json`),
      levels: 3,
      maxScale: 1,
    });
    if (until === 'grid') return;
    const embedder = await engine.rag.embedder();
    const mixes = await evaluateMixes({ corpora: all, adapters, examples, grid, nll, embedder, shape, prior }, { seeds, steps: fitSteps, learningRate: 3e-3 });
    results.mix = mixes.report;
    process.stdout.write(`\nAdapter mixes (${mixes.report.examples} held-out examples, 2-fold by file, ${seeds} seeds), mean NLL per token:\n`);
    process.stdout.write(
      `${table(
        ['policy', 'NLL'],
        Object.entries(mixes.report.meanNll).map(([name, value]) => [name, value]),
      )}\n`,
    );
    process.stdout.write(
      `${table(
        ['corpus', ...Object.keys(Object.values(mixes.report.perCorpus)[0]!)],
        Object.entries(mixes.report.perCorpus).map(([name, row]) => [name, ...Object.values(row)]),
      )}\n`,
    );
    process.stdout.write(
      `within 2 % of the oracle: ${mixes.report.withinTwoPercent} (seeds ${mixes.report.withinTwoPercentSeeds.join(', ')}); gap closed (rule − modulator)/(rule − oracle): ${mixes.report.gapClosed} (seeds ${mixes.report.gapClosedSeeds.join(', ')})\n`,
    );

    if (!skip.has('retrieval')) {
      const django = all.find((corpus) => corpus.adapter === 'django') ?? corpora(files)[0]!;
      const project = join(scratch, 'project');
      for (const file of [...django.train, ...django.heldOut]) {
        const target = join(project, relative(django.root, file));
        mkdirSync(join(target, '..'), { recursive: true });
        cpSync(file, target);
      }
      progress('indexing the retrieval project');
      await engine.rag.index(project);
      const python = pythonStdlib("the retrieval benchmark's general questions");
      const stdlib = readdirSync(python)
        .filter((file) =>
          [
            'textwrap.py',
            'shutil.py',
            'string.py',
            'fnmatch.py',
            'posixpath.py',
            'calendar.py',
            'difflib.py',
            'statistics.py',
            'ipaddress.py',
            'heapq.py',
            'base64.py',
            'pprint.py',
          ].includes(file),
        )
        .map((file) => join(python, file));
      const labelsFile = join(cache, `retrieval-${perKind}.json`);
      const items = questions(
        readdirSync(project, { recursive: true, withFileTypes: true })
          .filter((dirent) => dirent.isFile() && dirent.name.endsWith('.py'))
          .map((dirent) => join(dirent.parentPath, dirent.name)),
        stdlib,
        perKind,
      );
      const labelled: LabelledQuestion[] = existsSync(labelsFile)
        ? (JSON.parse(readFileSync(labelsFile, 'utf8')) as LabelledQuestion[])
        : await label(engine, scorer, project, items, {
            systemPrompt: config.model.systemPrompt,
            contextTokens: config.rag.contextTokens,
            referenceTokens: 64,
          });
      writeFileSync(labelsFile, JSON.stringify(labelled));
      const retrieval = await evaluateRetrieval(engine, project, labelled, { shape, prior, seeds, steps: fitSteps, learningRate: 3e-3 });
      results.retrieval = retrieval;
      process.stdout.write(
        `\nRetrieval (${retrieval.questions} questions, ${retrieval.positives} where retrieved code lowers the reference's NLL by > 2 %):\n`,
      );
      process.stdout.write(
        `${table(
          ['decider', 'precision', 'recall', 'retrieved', 'context tokens'],
          [
            ['rule', retrieval.rule.precision, retrieval.rule.recall, retrieval.rule.retrieved, retrieval.rule.tokens],
            ['modulator', retrieval.modulator.precision, retrieval.modulator.recall, retrieval.modulator.retrieved, retrieval.modulator.tokens],
          ],
        )}\n`,
      );
      process.stdout.write(`prompt tokens saved: ${retrieval.promptTokensSaved}; by kind ${JSON.stringify(retrieval.byKind)}\n`);
    }

    if (!skip.has('online')) {
      const corpusOf = (example: { project: string }) => all.find((corpus) => corpus.root === example.project)!.adapter;
      const full = 2;
      const online = simulate(mixes.examples, corpusOf, {
        shape,
        sessions,
        questions: 24,
        seeds,
        rule: (example) => example.candidates.map((name) => (name === corpusOf(example) || name === 'user' ? full : 0)),
      });
      results.online = online;
      process.stdout.write(
        `\nOnline (simulated user, ${sessions} sessions × ${online.questionsPerSession} questions, ${seeds} seeds): acceptance per session ${online.acceptance.join(' ')} (rule on the same questions ${online.ruleBySession.join(' ')}; lift ${online.lift.join(' ')}); rule overall ${online.ruleAcceptance}, best fixed policy ${online.bestFixedAcceptance}; regret vs best fixed ${online.regretVsBestFixed}, vs rule ${online.regretVsRule}; promotions ${online.promotions.join(', ')}\n`,
      );
    }

    const cost = networkCost(mixes.network, mixes.examples, 3000);
    results.cost = cost;
    const root = all[0]!.root;
    await engine.context.confirm(
      root,
      all[0]!.stacks.map((stack) => ({ name: stack.name, version: stack.version })),
    );
    const plan = await planCost(
      engine,
      root,
      examples,
      adapters.map((adapter) => ({ name: adapter.name, scope: all.find((corpus) => corpus.adapter === adapter.name)!.scope, path: adapter.path })),
      300,
    );
    results.plan = plan;
    process.stdout.write(
      `\nCost: forward p50 ${cost.forwardP50Ms} / p95 ${cost.forwardP95Ms} ms, online update p50 ${cost.updateP50Ms} / p95 ${cost.updateP95Ms} ms, plan p50 ${plan.planP50Ms} / p95 ${plan.planP95Ms} ms, ${cost.params} parameters\n`,
    );
    await scorer.dispose();
    let switching: SwitchCost | null = null;
    if (!skip.has('ttft')) {
      switching = await switchCost({
        modelId: ttftModel,
        modelsDir,
        scratch,
        threads,
        contextSize: 4096,
        repeats: 5,
        systemPrompt: config.model.systemPrompt,
        adapterSlots: config.model.adapterSlots,
      });
      results.switch = switching;
      process.stdout.write(
        `Scale change (${ttftModel}, context ${switching.contextSize}, ${switching.adapterSlots} slots): unchanged TTFT ${switching.ttftSameMs} ms; new mix on the live context ${switching.switchLiveMs} ms → TTFT ${switching.ttftNewMixMs} ms; back to a held mix ${switching.switchBackMs} ms → TTFT ${switching.ttftBackMs} ms; new context ${switching.switchNewContextMs} ms → TTFT ${switching.ttftAfterNewContextMs} ms\n`,
      );
    }
    // The one number: what the modulator adds to a time to first token, the plan (p95) plus
    // the scale change — to a mix a slot holds (the usual case) and to a mix none holds (the system
    // prompt is evaluated again under the new scales).
    results.addedTtftMs = switching
      ? {
          heldMix: round(plan.planP95Ms + Math.max(0, switching.ttftBackMs - switching.ttftSameMs), 1),
          newMix: round(plan.planP95Ms + Math.max(0, switching.ttftNewMixMs - switching.ttftSameMs), 1),
        }
      : null;
    results.load = { start: loadAtStart, end: loadAverage() };
    const summary = {
      withinTwoPercent: mixes.report.withinTwoPercent,
      gapClosed: mixes.report.gapClosed,
      forwardP95Ms: cost.forwardP95Ms,
      updateP95Ms: cost.updateP95Ms,
      params: cost.params,
      ...results,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await scorer.dispose().catch(() => undefined);
    await engine.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
