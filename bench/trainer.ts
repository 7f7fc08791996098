/**
 * Trainer speed, memory and what the speed costs in quality, on the Qwen bases. Python's own `json`
 * and `email` packages are the corpus (every machine with python3 has them): `json/decoder.py`,
 * `email/_policybase.py` and `email/charset.py` are held out, the other 28 files train.
 *
 *  - speed: for every model × threads × layers × rank, `--steps` training steps of one 128-token
 *    window (the first step is left out of the rate: it allocates), then eval and importance windows;
 *    peak RSS as the trainer reports it. From them, the wall time of one consolidation: held-out eval
 *    before and after (`--heldout-windows`), `--consolidation-steps` steps, importance over
 *    `--importance-consolidation` windows.
 *  - quality (`--quality`): for each `layers/rank/targets` configuration, `--quality-steps` steps the
 *    way a consolidation trains (lr 2e-4 after 10 warm-up steps, decaying to 2e-5, file order), then
 *    held-out NLL against the base's on the same windows.
 *
 *   node dist/bench/trainer.js [--models coder-1.5b,coder-0.5b] [--threads 1,2] [--layers all,top:14,top:8]
 *       [--ranks 8] [--steps 4] [--eval-windows 4] [--importance-windows 3] [--no-speed]
 *       [--quality] [--quality-configs "all/8/all;top:8/8/all"] [--quality-steps 100] [--quality-threads 1]
 *       [--heldout-windows 24] [--consolidation-steps 150] [--importance-consolidation 32]
 *
 * Needs `npm run build:trainer` and the models in the shared cache (`npm run fetch-models`, or
 * `npllm models pull coder-1.5b`). The load average is printed with every number: on a shared 2-core
 * machine it decides them. The last stdout line is the JSON summary.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import {
  evalArgs,
  importanceArgs,
  loraTargets,
  parseLayerSelection,
  TrainerProcess,
  trainArgs,
  trainerBinary,
  type LoraTarget,
  type TrainerEvent,
} from '../electron/engine/learning/native-trainer.js';
import { fixtureModelsDir } from '../electron/engine/test/support.js';
import { loadAverage, median, positiveIntFlag, progress, round, table } from './measure.js';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string' },
    threads: { type: 'string' },
    layers: { type: 'string' },
    ranks: { type: 'string' },
    steps: { type: 'string' },
    'eval-windows': { type: 'string' },
    'importance-windows': { type: 'string' },
    'no-speed': { type: 'boolean' },
    quality: { type: 'boolean' },
    'quality-configs': { type: 'string' },
    'quality-steps': { type: 'string' },
    'quality-threads': { type: 'string' },
    'heldout-windows': { type: 'string' },
    'consolidation-steps': { type: 'string' },
    'importance-consolidation': { type: 'string' },
  },
});
const csv = (raw: string | undefined, fallback: string) =>
  (raw ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const modelIds = csv(flags.models, 'coder-1.5b,coder-0.5b');
const threadCounts = csv(flags.threads, '1,2').map((value) => positiveIntFlag('threads', value, 1));
const layerSpecs = csv(flags.layers, 'all,top:14,top:8');
const ranks = csv(flags.ranks, '8').map((value) => positiveIntFlag('ranks', value, 8));
const steps = Math.max(2, positiveIntFlag('steps', flags.steps, 4));
const evalWindows = positiveIntFlag('eval-windows', flags['eval-windows'], 4);
const importanceWindows = positiveIntFlag('importance-windows', flags['importance-windows'], 3);
const qualitySteps = positiveIntFlag('quality-steps', flags['quality-steps'], 100);
const qualityThreads = positiveIntFlag('quality-threads', flags['quality-threads'], threadCounts[0] ?? 1);
const heldOutWindows = positiveIntFlag('heldout-windows', flags['heldout-windows'], 24);
const consolidationSteps = positiveIntFlag('consolidation-steps', flags['consolidation-steps'], 150);
const consolidationImportance = positiveIntFlag('importance-consolidation', flags['importance-consolidation'], 32);
const ctx = 128;

interface QualityConfig {
  label: string;
  layers: string;
  rank: number;
  targets: readonly LoraTarget[];
}

function parseQualityConfig(text: string): QualityConfig {
  const [layers = 'all', rank = '8', targets = 'all'] = text.split('/');
  parseLayerSelection(layers);
  const chosen =
    targets === 'all'
      ? loraTargets
      : targets.split(',').map((target) => {
          if (!(loraTargets as readonly string[]).includes(target)) throw new Error(`unknown target ${target} (one of ${loraTargets.join(', ')})`);
          return target as LoraTarget;
        });
  return { label: text, layers, rank: positiveIntFlag('quality rank', rank, 8), targets: chosen };
}
const qualityConfigs = (flags['quality-configs'] ?? 'all/8/all;top:14/8/all;top:8/8/all;top:8/16/all;top:8/8/attn_q,attn_k,attn_v,attn_output')
  .split(';')
  .map(parseQualityConfig);

/** The corpus as JSON Lines, one text per file (each ends with EOS, as the product's data does). */
function writeCorpus(dir: string): { train: string; heldOut: string; trainFiles: number } {
  const python = readdirSync('/usr/lib')
    .filter((name) => /^python3\.\d+$/.test(name))
    .sort()
    .pop();
  if (!python) throw new Error("no /usr/lib/python3.* found: the corpus is Python's own json and email packages (install python3)");
  const root = join('/usr/lib', python);
  const heldOutNames = ['json/decoder.py', 'email/_policybase.py', 'email/charset.py'];
  const files = ['json', 'email', 'email/mime'].flatMap((folder) =>
    readdirSync(join(root, folder))
      .filter((name) => name.endsWith('.py'))
      .sort()
      .map((name) => `${folder}/${name}`),
  );
  const jsonl = (names: string[]) => names.map((name) => JSON.stringify({ text: readFileSync(join(root, name), 'utf8') })).join('\n') + '\n';
  const train = join(dir, 'train.jsonl');
  const heldOut = join(dir, 'heldout.jsonl');
  const trainNames = files.filter((name) => !heldOutNames.includes(name));
  writeFileSync(train, jsonl(trainNames));
  writeFileSync(heldOut, jsonl(heldOutNames));
  return { train, heldOut, trainFiles: trainNames.length };
}

async function run(binary: string, args: string[]): Promise<TrainerEvent[]> {
  return new TrainerProcess(binary, args).finished;
}
const find = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) =>
  events.find((event): event is Extract<TrainerEvent, { type: T }> => event.type === type);

/** Seconds per window after the first (which also allocates the graph). */
function secondsPerWindow(events: TrainerEvent[]): number {
  const elapsed = events.filter((event) => event.type === 'step' || event.type === 'sample').map((event) => Number((event as { elapsedMs: number }).elapsedMs));
  const deltas = elapsed.slice(1).map((ms, index) => (ms - elapsed[index]!) / 1000);
  return median(deltas);
}

interface SpeedRow {
  model: string;
  threads: number;
  layers: string;
  rank: number;
  trainSecondsPerStep: number;
  trainTokensPerSecond: number;
  trainRssMb: number;
  trainableParams: number;
  evalTokensPerSecond: number;
  evalRssMb: number;
  importanceSecondsPerWindow: number;
  importanceRssMb: number;
  consolidationMinutes: number;
  loadAverage: [string, string];
}

async function main(): Promise<void> {
  const binary = trainerBinary();
  const scratch = mkdtempSync(join(tmpdir(), 'npllm-bench-trainer-'));
  const started = Date.now();
  try {
    const corpus = writeCorpus(scratch);
    progress(`load average ${loadAverage()}; trainer ${binary}; corpus: ${corpus.trainFiles} training files of json+email, 3 held out`);
    const speed: SpeedRow[] = [];
    const quality: Record<string, unknown>[] = [];
    for (const id of modelIds) {
      const entry = findCatalogueEntry(id);
      if (!entry) throw new Error(`unknown model ${id}`);
      const model = join(fixtureModelsDir, entry.fileName);
      if (!flags['no-speed']) {
        for (const threads of threadCounts) {
          // Eval does not depend on the adapter's layers: once per thread count.
          const loadBeforeEval = loadAverage();
          const evaluated = find(await run(binary, evalArgs({ model, data: [corpus.heldOut], ctx, threads, maxWindows: evalWindows })), 'eval')!;
          const evalTokensPerSecond = evaluated.tokens / ((evaluated.elapsedMs ?? Number.NaN) / 1000);
          progress(
            `${id} eval, ${threads} thread(s): ${round(evalTokensPerSecond)} tok/s, ${evaluated.peakRssMb} MB (load ${loadBeforeEval} → ${loadAverage()})`,
          );
          for (const layers of layerSpecs) {
            for (const rank of ranks) {
              const out = join(scratch, 'speed.gguf');
              const loadBefore = loadAverage();
              const trainEvents = await run(
                binary,
                trainArgs({ model, data: [corpus.train], out, ctx, threads, rank, alpha: 2 * rank, layers: parseLayerSelection(layers), steps, lr: 2e-4 }),
              );
              const start = find(trainEvents, 'start')!;
              const done = find(trainEvents, 'done')!;
              const trainSecondsPerStep = secondsPerWindow(trainEvents);
              const omega = join(scratch, 'omega.gguf');
              const importanceEvents = await run(
                binary,
                importanceArgs({ model, data: [corpus.train], adapter: out, out: omega, ctx, threads, maxWindows: importanceWindows }),
              );
              const importanceSecondsPerWindow = secondsPerWindow(importanceEvents);
              const evalSeconds = (2 * heldOutWindows * ctx) / evalTokensPerSecond;
              const row: SpeedRow = {
                model: id,
                threads,
                layers,
                rank,
                trainSecondsPerStep: round(trainSecondsPerStep, 2),
                trainTokensPerSecond: round(ctx / trainSecondsPerStep, 2),
                trainRssMb: done.peakRssMb ?? Number.NaN,
                trainableParams: Number(start['trainableParams']),
                evalTokensPerSecond: round(evalTokensPerSecond, 1),
                evalRssMb: evaluated.peakRssMb ?? Number.NaN,
                importanceSecondsPerWindow: round(importanceSecondsPerWindow, 2),
                importanceRssMb: find(importanceEvents, 'done')?.peakRssMb ?? Number.NaN,
                consolidationMinutes: round(
                  (evalSeconds + consolidationSteps * trainSecondsPerStep + consolidationImportance * importanceSecondsPerWindow) / 60,
                  1,
                ),
                loadAverage: [loadBefore, loadAverage()],
              };
              speed.push(row);
              progress(
                `${id} ${threads} thread(s), layers ${layers}, rank ${rank}: ${row.trainSecondsPerStep} s/step (${row.trainTokensPerSecond} tok/s), ${row.trainRssMb} MB; importance ${row.importanceSecondsPerWindow} s/window; consolidation ≈ ${row.consolidationMinutes} min (load ${row.loadAverage.join(' → ')})`,
              );
            }
          }
        }
      }
      if (flags.quality) {
        const loadBefore = loadAverage();
        const base = find(await run(binary, evalArgs({ model, data: [corpus.heldOut], ctx, threads: qualityThreads, maxWindows: heldOutWindows })), 'eval')!;
        progress(`${id} base held-out NLL ${round(base.nll, 4)} over ${base.tokens} tokens`);
        for (const config of qualityConfigs) {
          const out = join(scratch, 'quality.gguf');
          const trainStarted = Date.now();
          const events = await run(
            binary,
            trainArgs({
              model,
              data: [corpus.train],
              out,
              ctx,
              threads: qualityThreads,
              rank: config.rank,
              alpha: 2 * config.rank,
              targets: config.targets,
              layers: parseLayerSelection(config.layers),
              steps: qualitySteps,
              lr: 2e-4,
              lrMin: 2e-5,
              warmup: 10,
              shuffle: false,
              seed: 42,
            }),
          );
          const trainSeconds = (Date.now() - trainStarted) / 1000;
          const after = find(
            await run(binary, evalArgs({ model, data: [corpus.heldOut], ctx, threads: qualityThreads, maxWindows: heldOutWindows, adapter: out })),
            'eval',
          )!;
          const losses = events
            .filter((event): event is Extract<TrainerEvent, { type: 'step' }> => event.type === 'step')
            .map((event) => event.loss ?? Number.NaN);
          const row = {
            model: id,
            config: config.label,
            steps: qualitySteps,
            threads: qualityThreads,
            trainableParams: Number(find(events, 'start')!['trainableParams']),
            heldOutNll: { base: round(base.nll, 4), after: round(after.nll, 4) },
            gain: round((base.nll - after.nll) / base.nll, 4),
            lastLosses: round(median(losses.slice(-10)), 3),
            trainSeconds: round(trainSeconds),
            trainRssMb: find(events, 'done')?.peakRssMb,
            loadAverage: [loadBefore, loadAverage()],
          };
          quality.push(row);
          progress(
            `${id} ${config.label}: held-out NLL ${row.heldOutNll.base} → ${row.heldOutNll.after} (gain ${round(100 * row.gain, 2)} %), ${row.trainSeconds} s (load ${row.loadAverage.join(' → ')})`,
          );
        }
      }
    }
    if (speed.length > 0) {
      process.stderr.write(
        `\n${table(
          ['model', 'threads', 'layers', 'rank', 's/step', 'train tok/s', 'train MB', 'eval tok/s', 'importance s/window', 'consolidation min', 'load'],
          speed.map((row) => [
            row.model,
            row.threads,
            row.layers,
            row.rank,
            row.trainSecondsPerStep,
            row.trainTokensPerSecond,
            row.trainRssMb,
            row.evalTokensPerSecond,
            row.importanceSecondsPerWindow,
            row.consolidationMinutes,
            row.loadAverage.join(' → '),
          ]),
        )}\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ loadAverage: loadAverage(), ctx, steps, consolidation: { heldOutWindows, steps: consolidationSteps, importanceWindows: consolidationImportance }, speed, quality, seconds: round((Date.now() - started) / 1000) })}\n`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
