/**
 * Continual learning on the real model (issue 5): two real code corpora, base → learn A → learn B on
 * one adapter, through the product's own consolidation (index, confirm, `learning/consolidate`),
 * twice: with MAS + replay (the product's settings) and naive (λ = 0, no replay) as the baseline.
 * Then the serving cost of training: time to first token while a consolidation trains (the learner
 * pauses it) and while an untracked trainer runs (no pause), each over the idle TTFT.
 *
 *   node dist/bench/learning.js [--steps 120] [--threads N] [--lambda 100] [--replay 0.25] [--files-b 40] [--asks 5] [--out bench/results]
 *
 * Corpus A: four of OCA's Odoo 14 addons (PyPI wheels, pinned; cached in .cache/corpora): Python
 * models and XML views, the idiom of one framework — what npllm is for. Corpus B: ESLint's rule
 * modules (node_modules/eslint/lib/rules, every k-th file): JavaScript, another language and
 * house style, so learning B pulls the adapter away from A. Held-out files are chosen by the product (learning/dataset.ts).
 * The last stdout line is the JSON summary; the loss curves and forgetting matrices go to a PNG.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AdapterLearningStats, LearnResult } from '../shared/contract.js';
import { relativeGain, retainedShare } from '../shared/learning-metrics.js';
import { loadConfig, type Config } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { learningThreads } from '../electron/engine/learning/consolidate.js';
import { TrainerProcess, trainerBinary } from '../electron/engine/learning/native-trainer.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { fixtureModelsDir } from '../electron/engine/test/support.js';
import { loadAverage, median, positiveIntFlag, progress, round, table } from './measure.js';
import { heatmapSvg, lineChartSvg, savePng } from './plot.js';

const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string' }, threads: { type: 'string' }, lambda: { type: 'string' }, replay: { type: 'string' },
    'files-b': { type: 'string' }, asks: { type: 'string' }, out: { type: 'string' },
  },
});
const steps = positiveIntFlag('steps', flags.steps, 120);
const threads = flags.threads ? positiveIntFlag('threads', flags.threads, 1) : learningThreads(null);
const lambda = flags.lambda ? Number(flags.lambda) : 100;
const replayRatio = flags.replay ? Number(flags.replay) : 0.25;
const filesB = positiveIntFlag('files-b', flags['files-b'], 40);
const asks = positiveIntFlag('asks', flags.asks, 5);
const outDir = flags.out ?? join(packageRoot, 'bench', 'results');
const adapter = 'bench';

interface RunOutcome {
  label: string;
  results: LearnResult[];
  stats: AdapterLearningStats;
  trainRssMb: number;
}

/** OCA's Odoo 14 addons from PyPI (pinned): Python models and XML views of one framework's idiom. */
const odooAddons = ['odoo14-addon-account-payment-mode==14.0.1.1.0', 'odoo14-addon-mis-builder==14.0.4.3.0', 'odoo14-addon-partner-firstname==14.0.1.1.0', 'odoo14-addon-sale-order-type==14.0.3.2.0'];

/** Downloads (once, into the git-ignored cache) and unpacks the addons' wheels; pip is only the download tool. */
function odooCorpus(): string {
  const cache = join(packageRoot, '.cache', 'corpora', 'odoo14');
  const unpacked = join(cache, 'unpacked');
  if (existsSync(join(unpacked, '.complete'))) return join(unpacked, 'odoo', 'addons');
  mkdirSync(cache, { recursive: true });
  const pip = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', cache, ...odooAddons], { stdio: 'inherit' });
  if (pip.status !== 0) throw new Error(`pip download of the Odoo corpus failed (exit ${pip.status}): check that PyPI is reachable (PIP_INDEX_URL).`);
  rmSync(unpacked, { recursive: true, force: true });
  for (const wheel of readdirSync(cache).filter((file) => file.endsWith('.whl'))) {
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', join(cache, wheel), unpacked], { stdio: 'inherit' });
    if (unzip.status !== 0) throw new Error(`Unpacking ${wheel} failed.`);
  }
  writeFileSync(join(unpacked, '.complete'), '');
  return join(unpacked, 'odoo', 'addons');
}

function copyTree(from: string, to: string, keep: (path: string) => boolean): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, join(to, entry.name), keep);
    else if (keep(source)) {
      mkdirSync(to, { recursive: true });
      cpSync(source, join(to, entry.name));
    }
  }
}

function corpora(scratch: string): { a: string; b: string } {
  const a = join(scratch, 'odoo-addons');
  const b = join(scratch, 'eslint-rules');
  // Models, views, security, data and wizards; tests, translations, static assets and migrations are not the idiom being learned.
  copyTree(odooCorpus(), a, (path) => /\.(py|xml)$/.test(path) && !/[\\/](tests|i18n|static|migrations)[\\/]/.test(path));
  writeFileSync(join(a, '__manifest__.py'), "{'name': 'OCA addons', 'version': '14.0.1.0.0', 'depends': ['base', 'account', 'sale']}\n");
  mkdirSync(join(b, 'lib', 'rules'), { recursive: true });
  const ruleDir = join(packageRoot, 'node_modules', 'eslint', 'lib', 'rules');
  const rules = readdirSync(ruleDir).filter((file) => file.endsWith('.js') && file !== 'index.js').sort();
  const every = Math.max(1, Math.floor(rules.length / filesB));
  for (const file of rules.filter((_, index) => index % every === 0).slice(0, filesB)) cpSync(join(ruleDir, file), join(b, 'lib', 'rules', file));
  writeFileSync(join(b, 'package.json'), JSON.stringify({ name: 'eslint-rules', version: '1.0.0', main: 'lib/rules/index.js' }));
  return { a, b };
}

function configFor(home: string, overrides: Partial<Config['learning']>): Config {
  return loadConfig({
    env: { ...process.env, NPLLM_MODELS_DIR: process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir },
    overrides: { home, log: { level: 'warn' }, model: { threads: 1, maxTokens: 4 }, learning: { maxSteps: steps, threads, ...overrides } },
  });
}

/** Peak resident memory of every trainer process the run starts (VmHWM, read while it lives). */
function rssWatcher(): { onTrainer: (process: TrainerProcess) => () => void; peakMb: () => number } {
  let peakKb = 0;
  return {
    onTrainer: (trainer) => {
      const read = () => {
        if (!trainer.pid) return;
        readFile(`/proc/${trainer.pid}/status`, 'utf8')
          .then((status) => {
            const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
            peakKb = Math.max(peakKb, kb);
          })
          .catch(() => undefined);
      };
      const timer = setInterval(read, 250);
      return () => clearInterval(timer);
    },
    peakMb: () => peakKb / 1024,
  };
}

async function learnSequence(label: string, home: string, projects: { a: string; b: string }, overrides: Partial<Config['learning']>): Promise<RunOutcome> {
  const engine = await Engine.open(configFor(home, overrides), { prepareModel: false });
  try {
    const rss = rssWatcher();
    const results: LearnResult[] = [];
    for (const [name, project] of [['A', projects.a], ['B', projects.b]] as const) {
      progress(`${label}: indexing ${name}`);
      await engine.rag.index(project);
      await engine.context.confirm(project);
      progress(`${label}: learning ${name} (${steps} steps, ${threads} thread${threads > 1 ? 's' : ''})`);
      let lastLabel = '';
      const result = await engine.learner.consolidate(
        { project, adapter },
        {
          onTrainer: rss.onTrainer,
          onProgress: (report) => {
            if (report.label !== lastLabel && /step \d*0\/|judging|importance,? window 1\//.test(report.label)) progress(`${label}: ${report.label}`);
            lastLabel = report.label;
          },
        },
      );
      progress(`${label}: ${name} → v${result.version} ${result.channel}: ${result.reason}`);
      results.push(result);
    }
    const stats = (await engine.api.call('stats/learning', { adapter }, { caller: 'cli' })).adapters[0]!;
    return { label, results, stats, trainRssMb: rss.peakMb() };
  } finally {
    await engine.dispose();
  }
}

async function timeToFirstToken(engine: Engine, project: string, count: number, tag: string): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const answer = await engine.ask({ question: `How do I add a field to a model? (${tag} ${index})`, project, noCache: true, maxTokens: 4, replyTo: null });
    times.push(answer.timings.ttftMs);
    progress(`  ${tag} ${index}: ttft ${round(answer.timings.ttftMs)} ms, retrieval ${answer.retrieval.used ? 'used' : 'not used'}`);
  }
  return times;
}

/**
 * Idle, paused and unpaused answers take turns in rounds, so a slow spell of the shared machine
 * (or a warm-up effect) lands on every configuration alike instead of on one.
 */
async function servingWhileTraining(home: string, projects: { a: string; b: string }): Promise<{ idle: number; paused: number; unpaused: number }> {
  const engine = await Engine.open(configFor(home, { maxSteps: 100_000, maxTrainSeconds: null }), { prepareModel: true });
  try {
    await timeToFirstToken(engine, projects.a, 3, 'warm-up');
    const idle: number[] = [];
    const paused: number[] = [];
    const unpaused: number[] = [];
    const data = join(home, 'unpaused.txt');
    writeFileSync(data, (await readFile(join(projects.b, 'lib', 'rules', readdirSync(join(projects.b, 'lib', 'rules'))[0]!), 'utf8')).repeat(8));
    const model = (await engine.model.identify()).path;
    for (let round_ = 0; round_ < asks; round_++) {
      idle.push(...(await timeToFirstToken(engine, projects.a, 1, `idle r${round_}`)));

      // A consolidation the learner manages: it stops the trainer while each answer is generated.
      const abort = new AbortController();
      let training!: () => void;
      const started = new Promise<void>((resolve) => (training = resolve));
      const run = engine.learner
        .consolidate({ project: projects.b, adapter: `ttft${round_}` }, { signal: abort.signal, onProgress: (report) => / step \d+\//.test(report.label) && training() })
        .catch(() => undefined);
      await started;
      paused.push(...(await timeToFirstToken(engine, projects.a, 1, `paused r${round_}`)));
      abort.abort();
      await run;

      // The same training load without the learner: nothing pauses it.
      const trainer = new TrainerProcess(trainerBinary(), ['train', '--model', model, '--data', data, '--out', join(home, 'unpaused.gguf'), '--steps', '1000', '--ctx', '128', '--threads', String(threads), '--lr', '1e-4'], {});
      await new Promise((resolve) => setTimeout(resolve, 3000));
      unpaused.push(...(await timeToFirstToken(engine, projects.a, 1, `unpaused r${round_}`)));
      trainer.stop();
      await trainer.finished.catch(() => undefined);
    }
    return { idle: median(idle), paused: median(paused), unpaused: median(unpaused) };
  } finally {
    await engine.dispose();
  }
}

function projectLabel(project: string, projects: { a: string; b: string }): string {
  return project === projects.a ? 'A Odoo addons' : project === projects.b ? 'B ESLint rules' : project;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-bench-learning-'));
  const started = Date.now();
  try {
    const projects = corpora(scratch);
    progress(`load average ${loadAverage()}; ${steps} steps per project, ${threads} trainer thread(s), λ ${lambda}, replay ${replayRatio}`);
    const mas = await learnSequence('MAS + replay', join(scratch, 'home-mas'), projects, { masLambda: lambda, replayRatio });
    const naive = await learnSequence('naive', join(scratch, 'home-naive'), projects, { masLambda: 0, replayRatio: 0 });
    progress('serving while training');
    const ttft = await servingWhileTraining(join(scratch, 'home-mas'), projects);

    const summarise = (run: RunOutcome) => {
      const [afterA, afterB] = run.results as [LearnResult, LearnResult];
      const baseA = run.stats.nll[0]![run.stats.projects.indexOf(projects.a)] ?? null;
      const baseB = run.stats.nll[0]![run.stats.projects.indexOf(projects.b)] ?? null;
      const gainA = relativeGain(baseA, afterA.nllAfter[projects.a]);
      const gainAAfterB = relativeGain(baseA, afterB.nllAfter[projects.a]);
      const gainB = relativeGain(baseB, afterB.nllAfter[projects.b]);
      return {
        baseA, baseB, nllAAfterA: afterA.nllAfter[projects.a]!, nllAAfterB: afterB.nllAfter[projects.a]!, nllBAfterB: afterB.nllAfter[projects.b]!,
        // Two tasks: BWT = R(after B, A) − R(after A, A), with gain as R (whatever channel B's version ended in).
        gainA, gainAAfterB, gainB, retainedA: retainedShare(gainA, gainAAfterB), bwt: gainA !== null && gainAAfterB !== null ? gainAAfterB - gainA : null,
        channels: [afterA.channel, afterB.channel], reasons: [afterA.reason, afterB.reason],
        tokensPerSecond: [afterA.stats.tokensPerSecond, afterB.stats.tokensPerSecond], trainTokens: afterA.stats.trainTokens + afterB.stats.trainTokens,
        replayTexts: afterB.stats.replayTexts, trainRssMb: run.trainRssMb, durationS: (afterA.stats.durationMs + afterB.stats.durationMs) / 1000,
      };
    };
    const masSummary = summarise(mas);
    const naiveSummary = summarise(naive);
    const r3 = (value: number | null) => (value === null ? null : round(value, 3));

    process.stdout.write(
      `${table(
        ['run', 'NLL A base', 'A after A', 'A after B', 'B base', 'B after B', 'gain A', 'retained A', 'gain B', 'BWT', 'tok/s', 'RSS MB', 'channels'],
        [mas, naive].map((run) => {
          const s = run === mas ? masSummary : naiveSummary;
          return [run.label, r3(s.baseA) ?? '–', r3(s.nllAAfterA) ?? '–', r3(s.nllAAfterB) ?? '–', r3(s.baseB) ?? '–', r3(s.nllBAfterB) ?? '–', r3(s.gainA) ?? '–', r3(s.retainedA) ?? '–', r3(s.gainB) ?? '–', r3(s.bwt) ?? '–', s.tokensPerSecond.map((value) => round(value, 1)).join(' / '), round(s.trainRssMb), s.channels.join(' → ')];
        }),
      )}\n`,
    );
    process.stdout.write(`TTFT idle ${round(ttft.idle)} ms; while training (learner pauses it) ${round(ttft.paused)} ms; while an unpaused trainer runs ${round(ttft.unpaused)} ms\n`);
    for (const run of [mas, naive]) {
      const s = run === mas ? masSummary : naiveSummary;
      process.stdout.write(`${run.label}: ${s.reasons.join(' | ')}\n`);
    }

    const png = join(outDir, 'learning.png');
    mkdirSync(dirname(png), { recursive: true });
    const curves = lineChartSvg({
      title: 'Training loss per step (one 128-token window each)',
      xLabel: 'step',
      yLabel: 'loss (nats/token)',
      series: [mas, naive].flatMap((run) =>
        run.results.map((result, index) => ({ name: `${run.label}: ${index === 0 ? 'A' : 'B'}`, points: smooth(result.lossCurve, 10).map((y, x) => ({ x: x + 1, y })) })),
      ),
    });
    // Gain over the base per cell: projects differ in how hard they are, so raw NLL colours would compare columns, not versions.
    const matrices = [mas, naive].map((run) =>
      heatmapSvg({
        title: `Gain over the base, ${run.label}`,
        rowLabels: run.stats.versions.map((version) => (version.version === 0 ? 'base' : `v${version.version} after ${projectLabel(version.project ?? '', projects)}`)),
        columnLabels: run.stats.projects.map((project) => `NLL on ${projectLabel(project, projects)}`),
        values: run.stats.gain,
        format: (value) => `${(value * 100).toFixed(1)} %`,
      }),
    );
    await savePng(png, [curves, ...matrices], { columns: 3 });
    progress(`plots: ${png}`);

    const summary = {
      gainA: { masReplay: r3(masSummary.gainA), naive: r3(naiveSummary.gainA) },
      retainedA: { masReplay: r3(masSummary.retainedA), naive: r3(naiveSummary.retainedA) },
      bwt: { masReplay: r3(masSummary.bwt), naive: r3(naiveSummary.bwt) },
      gainB: { masReplay: r3(masSummary.gainB), naive: r3(naiveSummary.gainB) },
      trainTokensPerSecond: round(median([...masSummary.tokensPerSecond, ...naiveSummary.tokensPerSecond]), 1),
      trainRssMb: round(Math.max(masSummary.trainRssMb, naiveSummary.trainRssMb)),
      ttftRatio: round(ttft.paused / ttft.idle, 2),
      ttftRatioUnpaused: round(ttft.unpaused / ttft.idle, 2),
      ttftIdleMs: round(ttft.idle),
      steps, threads, lambda, replayRatio,
      nll: { masReplay: mas.stats.nll, naive: naive.stats.nll },
      plot: png,
      loadAverage: loadAverage(),
      seconds: round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Per-step losses are of different windows: a trailing mean shows the trend. */
function smooth(values: readonly number[], window: number): number[] {
  return values.map((_, index) => {
    const slice = values.slice(Math.max(0, index - window + 1), index + 1);
    return slice.reduce((sum, value) => sum + value, 0) / slice.length;
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
