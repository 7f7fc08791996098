/**
 * Adapter mixes on real corpora: one adapter per corpus trained by the product's trainer, the NLL of
 * held-out references under every mix of the grid (the oracle), and the modulator fitted to the
 * oracle of some held-out files and judged on the others (2-fold by file, several seeds) against
 * the base, today's rule, every adapter at one scale and the best single adapter.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { Token } from 'node-llama-cpp';
import { TrainerProcess, trainerBinary } from '../electron/engine/learning/native-trainer.js';
import { decodeInput, encodeInput } from '../electron/engine/modulator/features.js';
import { buildInput, type AdapterCandidate, type CandidateKnowledge } from '../electron/engine/modulator/inputs.js';
import { ModulatorNetwork, type NetworkOptions } from '../electron/engine/modulator/network.js';
import { fit, fullGrid, mixNll, type OracleExample } from '../electron/engine/modulator/offline.js';
import { greedy } from '../electron/engine/modulator/policy.js';
import { scaleOf, type PriorSettings } from '../electron/engine/modulator/prior.js';
import { MixScorer } from '../electron/engine/modulator/scorer.js';
import { mentions, isProjectWording } from '../electron/engine/rag/gate.js';
import type { Embedder } from '../electron/engine/rag/types.js';
import { windows, type Corpus } from './modulator-corpora.js';
import { progress, round } from './measure.js';

export interface TrainedAdapter {
  name: string;
  path: string;
  steps: number;
  tokensPerSecond: number;
  finalLoss: number | null;
}

/** Trains (once, cached by corpus, model and steps) one adapter per corpus with npllm-train. */
export async function trainAdapters(
  corpora: readonly Corpus[],
  options: { cache: string; modelPath: string; steps: number; threads: number },
): Promise<TrainedAdapter[]> {
  const trained: TrainedAdapter[] = [];
  for (const corpus of corpora) {
    const folder = join(options.cache, 'adapters');
    mkdirSync(folder, { recursive: true });
    const out = join(folder, `${corpus.adapter}-${options.steps}.gguf`);
    const meta = `${out}.json`;
    if (existsSync(out) && existsSync(meta)) {
      trained.push(JSON.parse(readFileSync(meta, 'utf8')) as TrainedAdapter);
      continue;
    }
    const data = join(folder, `${corpus.adapter}.jsonl`);
    writeFileSync(data, corpus.train.map((file) => JSON.stringify({ text: `# ${relative(corpus.root, file)}\n${readFileSync(file, 'utf8')}` })).join('\n'));
    progress(`training ${corpus.adapter} on ${corpus.train.length} files, ${options.steps} steps, ${options.threads} thread(s)`);
    const args = [
      'train',
      '--model',
      options.modelPath,
      '--data',
      data,
      '--out',
      out,
      '--rank',
      '8',
      '--alpha',
      '16',
      '--ctx',
      '128',
      '--steps',
      String(options.steps),
      '--lr',
      '2e-4',
      '--lr-min',
      '2e-5',
      '--warmup',
      '10',
      '--threads',
      String(options.threads),
      '--seed',
      '42',
    ];
    let last: number | null = null;
    const trainer = new TrainerProcess(trainerBinary(), args, {
      onEvent: (event) => {
        if (event.type === 'step') {
          last = event.loss;
          if (event.step % 20 === 0)
            progress(`  ${corpus.adapter} step ${event.step}/${options.steps} loss ${event.loss?.toFixed(3)} (${round(event.elapsedMs / 1000)} s)`);
        }
      },
    });
    const events = await trainer.finished;
    const done = events.find((event) => event.type === 'done') as { tokensPerSecond?: number; steps?: number } | undefined;
    const record: TrainedAdapter = {
      name: corpus.adapter,
      path: out,
      steps: done?.steps ?? options.steps,
      tokensPerSecond: done?.tokensPerSecond ?? 0,
      finalLoss: last,
    };
    writeFileSync(meta, JSON.stringify(record));
    trained.push(record);
  }
  return trained;
}

export interface MixExample {
  corpus: string;
  file: string;
  prompt: string;
  promptTokens: Token[];
  referenceTokens: Token[];
}

/** Held-out windows, `perCorpus` of them spread over each corpus's held-out files: a prompt and the reference that follows. */
export function heldOutExamples(corpora: readonly Corpus[], scorer: MixScorer, perCorpus: number, tokens: { prompt: number; reference: number }): MixExample[] {
  const examples: MixExample[] = [];
  for (const corpus of corpora) {
    const candidates = corpus.heldOut.flatMap((file) => windows(readFileSync(file, 'utf8'), 30).map((text) => ({ file: relative(corpus.root, file), text })));
    const step = Math.max(1, candidates.length / perCorpus);
    for (let i = 0; i < perCorpus && Math.floor(i * step) < candidates.length; i++) {
      const { file, text } = candidates[Math.floor(i * step)]!;
      const all = scorer.tokenize(text);
      if (all.length < tokens.prompt + 8) continue;
      const promptTokens = all.slice(0, tokens.prompt);
      const referenceTokens = all.slice(tokens.prompt, tokens.prompt + tokens.reference);
      examples.push({ corpus: corpus.adapter, file, prompt: scorer.model.detokenize(promptTokens), promptTokens, referenceTokens });
    }
  }
  return examples;
}

/** nll[mix][example] over the full grid of `levels` scale levels, resumable from `file`. */
export async function measureGrid(
  scorer: MixScorer,
  adapters: readonly TrainedAdapter[],
  examples: readonly MixExample[],
  options: { file: string; levels: number; maxScale: number },
): Promise<{ grid: number[][]; nll: number[][] }> {
  const grid = fullGrid(adapters.length, options.levels);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        adapters: adapters.map((adapter) => adapter.path),
        examples: examples.map((example) => [example.promptTokens, example.referenceTokens]),
        grid,
        maxScale: options.maxScale,
      }),
    )
    .digest('hex');
  const saved = existsSync(options.file) ? (JSON.parse(readFileSync(options.file, 'utf8')) as { key: string; nll: number[][] }) : null;
  const nll = saved?.key === key ? saved.nll : [];
  // Mixes measured by an earlier run: the time per mix (for the estimate) counts only this run's.
  const resumed = nll.length;
  const started = performance.now();
  let tokens = 0;
  for (let mix = nll.length; mix < grid.length; mix++) {
    await scorer.setMix(
      grid[mix]!.map((level, index) => ({ path: adapters[index]!.path, scale: scaleOf(level, { levels: options.levels, maxScale: options.maxScale }) })),
    );
    const row: number[] = [];
    for (const example of examples) {
      row.push(await scorer.score({ prompt: example.promptTokens, reference: example.referenceTokens }));
      tokens += example.promptTokens.length + example.referenceTokens.length;
    }
    nll.push(row);
    writeFileSync(options.file, JSON.stringify({ key, nll }));
    const seconds = (performance.now() - started) / 1000;
    progress(
      `grid: mix ${mix + 1}/${grid.length} [${grid[mix]!.join(' ')}], ${round(tokens / seconds)} tokens/s, about ${round(((grid.length - mix - 1) * seconds) / (mix + 1 - resumed) / 60)} min left`,
    );
  }
  return { grid, nll };
}

export interface MixSetup {
  corpora: readonly Corpus[];
  adapters: readonly TrainedAdapter[];
  examples: readonly MixExample[];
  grid: number[][];
  nll: number[][];
  embedder: Embedder;
  shape: NetworkOptions;
  prior: PriorSettings;
}

/** The network inputs of every example, as the product builds them (inputs.ts), with each adapter's centroid and measured gain. */
export async function exampleInputs(setup: MixSetup, foldOf: (example: MixExample) => number, fold: number): Promise<OracleExample[]> {
  const { corpora, adapters, examples, embedder } = setup;
  const centroids = new Map<string, Float32Array>();
  for (const corpus of corpora) {
    const texts = corpus.train
      .flatMap((file) => windows(readFileSync(file, 'utf8'), 30))
      .filter((_, index) => index % 3 === 0)
      .slice(0, 48);
    const vectors = await embedder.embed(texts);
    const mean = new Float32Array(embedder.dimensions);
    for (const vector of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += vector[i]! / vectors.length;
    centroids.set(corpus.adapter, mean);
  }
  const candidates: AdapterCandidate[] = adapters.map((adapter) => ({
    name: adapter.name,
    version: '1',
    scope: corpora.find((corpus) => corpus.adapter === adapter.name)!.scope,
    channel: 'stable',
    path: adapter.path,
  }));
  const baseMix = setup.grid.findIndex((mix) => mix.every((level) => level === 0));
  const full = setup.prior.levels - 1;
  // What a consolidation measures: each adapter's held-out gain on its own project, from the examples it may see (the fit fold).
  const gains = new Map<string, number>();
  for (const [index, adapter] of adapters.entries()) {
    const own = examples.map((example, i) => ({ example, i })).filter(({ example }) => example.corpus === adapter.name && foldOf(example) !== fold);
    const single = setup.grid.findIndex((mix) => mix.every((level, j) => level === (j === index ? full : 0)));
    const base = mean(own.map(({ i }) => setup.nll[baseMix]![i]!));
    const adapted = mean(own.map(({ i }) => setup.nll[single]![i]!));
    if (own.length) gains.set(adapter.name, (base - adapted) / base);
  }
  const vectors = await embedder.embed(examples.map((example) => example.prompt));
  return examples.map((example, index) => {
    const corpus = corpora.find((entry) => entry.adapter === example.corpus)!;
    const { identifiers, paths } = mentions(example.prompt);
    const knowledge: CandidateKnowledge[] = candidates.map((candidate) => {
      const gain = candidate.name === example.corpus ? (gains.get(candidate.name) ?? null) : null;
      return { harm: gain === null ? null : -gain, harmful: gain !== null && -gain > 0.02, gain, centroid: centroids.get(candidate.name)! };
    });
    const built = buildInput(
      {
        question: example.prompt,
        history: [],
        regenerates: false,
        project: corpus.root,
        embedding: vectors[index]!,
        probe: {
          project: true,
          indexed: false,
          distances: [],
          identifiers: identifiers.length,
          paths: paths.length,
          symbols: 0,
          files: 0,
          namedInHistory: false,
          projectWording: isProjectWording(example.prompt),
        },
        ruleRetrieve: false,
        stacks: corpus.stacks,
      },
      candidates,
      knowledge,
      setup.shape,
      setup.prior,
    );
    return {
      project: corpus.root,
      unit: example.file,
      input: encodeInput(built.input),
      candidates: candidates.map((candidate) => candidate.name),
      grid: setup.grid,
      nll: setup.grid.map((_, mix) => setup.nll[mix]![index]!),
      split: foldOf(example) === fold ? 'eval' : 'fit',
    };
  });
}

export interface MixReport {
  examples: number;
  meanNll: Record<string, number>;
  bestSingle: string;
  withinTwoPercent: number;
  withinTwoPercentSeeds: number[];
  gapClosed: number;
  gapClosedSeeds: number[];
  oracleGap: number;
  perCorpus: Record<string, Record<string, number>>;
}

/** 2-fold cross-validation by file, `seeds` fits per fold; every example is judged by a network that never saw its file. */
export async function evaluateMixes(
  setup: MixSetup,
  options: { seeds: number; steps: number; learningRate: number },
): Promise<{ report: MixReport; network: ModulatorNetwork; examples: OracleExample[] }> {
  const foldOf = (example: MixExample) => parseInt(createHash('sha256').update(`${example.corpus}/${example.file}`).digest('hex').slice(0, 8), 16) % 2;
  const folds = [await exampleInputs(setup, foldOf, 0), await exampleInputs(setup, foldOf, 1)];
  const { grid, nll, examples, prior } = setup;
  const full = prior.levels - 1;
  const rule = examples.map((example) => setup.adapters.map((adapter) => (adapter.name === example.corpus || adapter.name === 'user' ? full : 0)));
  const at = (levels: readonly number[], index: number) => mixNll({ grid, nll: grid.map((_, mix) => nll[mix]![index]!) }, levels);
  const policies: Record<string, (index: number) => number> = {
    base: (index) =>
      at(
        setup.adapters.map(() => 0),
        index,
      ),
    rule: (index) => at(rule[index]!, index),
    allAtOne: (index) =>
      at(
        setup.adapters.map(() => full),
        index,
      ),
    // Routing by project alone: the project's own adapter at full scale (LoraRetriever-like, per project instead of per question).
    ownOnly: (index) =>
      at(
        setup.adapters.map((adapter) => (adapter.name === examples[index]!.corpus ? full : 0)),
        index,
      ),
    oracle: (index) => Math.min(...grid.map((_, mix) => nll[mix]![index]!)),
  };
  for (const [a, adapter] of setup.adapters.entries())
    policies[`only:${adapter.name}`] = (index) =>
      at(
        setup.adapters.map((_, j) => (j === a ? full : 0)),
        index,
      );
  const chosen: number[][] = [];
  const within: number[] = [];
  const closed: number[] = [];
  let last: ModulatorNetwork | null = null;
  for (let seed = 1; seed <= options.seeds; seed++) {
    const modNll = new Array<number>(examples.length).fill(Number.NaN);
    for (const fold of [0, 1]) {
      const network = new ModulatorNetwork({ ...setup.shape, seed, learningRate: options.learningRate });
      fit(network, { oracle: folds[fold]! }, { steps: options.steps, batch: 16, seed });
      folds[fold]!.forEach((example, index) => {
        if (example.split !== 'eval') return;
        const levels = greedy(network.forward(decodeInput(example.input)).output).levels;
        modNll[index] = mixNll(example, levels);
        if (seed === 1) chosen[index] = levels;
      });
      last = network;
    }
    const oracle = examples.map((_, index) => policies.oracle!(index));
    within.push(modNll.filter((value, index) => value <= oracle[index]! * 1.02).length / examples.length);
    const ruleMean = mean(examples.map((_, index) => policies.rule!(index)));
    closed.push((ruleMean - mean(modNll)) / (ruleMean - mean(oracle)));
    policies[`modulator:${seed}`] = (index) => modNll[index]!;
  }
  const meanNll: Record<string, number> = {};
  for (const [name, policy] of Object.entries(policies)) meanNll[name] = round(mean(examples.map((_, index) => policy(index))), 4);
  const singles = Object.entries(meanNll).filter(([name]) => name.startsWith('only:'));
  const bestSingle = singles.sort((a, b) => a[1] - b[1])[0]![0];
  meanNll.modulator = round(mean(Array.from({ length: options.seeds }, (_, s) => meanNll[`modulator:${s + 1}`]!)), 4);
  const perCorpus: Record<string, Record<string, number>> = {};
  for (const corpus of setup.corpora) {
    const indices = examples.map((example, index) => (example.corpus === corpus.adapter ? index : -1)).filter((index) => index >= 0);
    perCorpus[corpus.adapter] = Object.fromEntries(
      ['base', 'rule', 'allAtOne', 'ownOnly', bestSingle, 'modulator:1', 'oracle'].map((name) => [
        name,
        round(mean(indices.map((index) => policies[name]!(index))), 4),
      ]),
    );
  }
  const oracleMean = meanNll.oracle!;
  return {
    report: {
      examples: examples.length,
      meanNll,
      bestSingle,
      withinTwoPercent: round(mean(within), 3),
      withinTwoPercentSeeds: within.map((value) => round(value, 3)),
      gapClosed: round(mean(closed), 3),
      gapClosedSeeds: closed.map((value) => round(value, 3)),
      oracleGap: round(meanNll.modulator / oracleMean - 1, 4),
      perCorpus,
    },
    network: last!,
    examples: folds[0]!,
  };
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;
}
