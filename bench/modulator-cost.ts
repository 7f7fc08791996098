/**
 * What the modulator costs an answer: the network's forward and one online update (in-process,
 * real inputs), the whole plan on the critical path (profile and evaluation lookups, features,
 * forward), and a change of scales in the model — on the live context (`_setLoras`) against a new
 * context with the adapters cached — with the time to first token it leads to.
 */
import { join } from 'node:path';
import { readBaseModelShapes } from '../electron/engine/adapters/gguf.js';
import { freshLora, writeLoraAdapter } from '../electron/engine/adapters/gguf-writer.js';
import type { Engine } from '../electron/engine/engine.js';
import { decodeInput } from '../electron/engine/modulator/features.js';
import { ModulatorLearner } from '../electron/engine/modulator/learner.js';
import { modulatorDefaults } from '../electron/engine/modulator/config.js';
import type { ModulatorNetwork } from '../electron/engine/modulator/network.js';
import type { OracleExample } from '../electron/engine/modulator/offline.js';
import { explore } from '../electron/engine/modulator/policy.js';
import { LocalModel, type ServedAdapter } from '../electron/engine/model/local-model.js';
import { findCatalogueEntry } from '../electron/engine/model/catalogue.js';
import { seededRandom } from '../shared/random.js';
import { percentile, progress, round } from './measure.js';

export interface NetworkCost {
  forwardP50Ms: number;
  forwardP95Ms: number;
  updateP50Ms: number;
  updateP95Ms: number;
  params: number;
}

export function networkCost(network: ModulatorNetwork, examples: readonly OracleExample[], repeats: number): NetworkCost {
  const inputs = examples.map((example) => decodeInput(example.input));
  const forward: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const input = inputs[i % inputs.length]!;
    const started = performance.now();
    network.forward(input);
    forward.push(performance.now() - started);
  }
  const copy = network.clone();
  const learner = new ModulatorLearner({ modulator: { config: modulatorDefaults() } } as unknown as ConstructorParameters<typeof ModulatorLearner>[0]);
  const random = seededRandom(5);
  const update: number[] = [];
  for (let i = 0; i < Math.max(50, repeats / 10); i++) {
    const example = examples[i % examples.length]!;
    const { action, propensity } = explore(copy.forward(inputs[i % inputs.length]!).output, { rate: 0.1, retrieval: true }, random);
    const started = performance.now();
    learner.update(copy, {
      interactionId: `cost-${i}`,
      features: example.input as unknown as Record<string, unknown>,
      action,
      propensity,
      reward: random() > 0.5 ? 0.5 : -0.5,
    });
    update.push(performance.now() - started);
  }
  // The first calls compile the loops: the steady state is what answers see.
  const warm = (values: number[]) => values.slice(Math.floor(values.length / 10));
  return {
    forwardP50Ms: round(percentile(warm(forward), 0.5), 3),
    forwardP95Ms: round(percentile(warm(forward), 0.95), 3),
    updateP50Ms: round(percentile(warm(update), 0.5), 3),
    updateP95Ms: round(percentile(warm(update), 0.95), 3),
    params: network.parameterCount,
  };
}

/** The plan on the critical path, as the pipeline calls it (a confirmed project, four candidate adapters). */
export async function planCost(
  engine: Engine,
  root: string,
  examples: readonly { prompt: string }[],
  candidates: { name: string; scope: string; path: string }[],
  repeats: number,
): Promise<{ planP50Ms: number; planP95Ms: number }> {
  const embedder = await engine.rag.embedder();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const question = examples[i % examples.length]!.prompt;
    const [embedding] = await embedder.embed([question]);
    const started = performance.now();
    await engine.modulator.plan({
      question,
      history: [],
      regenerates: false,
      project: root,
      embedding: embedding!,
      probe: {
        project: true,
        indexed: true,
        distances: [0.3, 0.35, 0.4, 0.41, 0.45],
        identifiers: 1,
        paths: 0,
        symbols: 0,
        files: 0,
        namedInHistory: false,
        projectWording: false,
      },
      ruleRetrieve: false,
      ruleReasons: ['general question'],
      candidates: candidates.map((candidate) => ({ ...candidate, version: '1', channel: 'stable' })),
    });
    times.push(performance.now() - started);
  }
  const warm = times.slice(Math.floor(times.length / 10));
  return { planP50Ms: round(percentile(warm, 0.5), 3), planP95Ms: round(percentile(warm, 0.95), 3) };
}

export interface SwitchCost {
  model: string;
  contextSize: number;
  adapterSlots: number;
  /** Time to first token with the same adapters and scales as the previous answer (system prompt reused from the KV cache). */
  ttftSameMs: number;
  /** A mix no slot holds: scales changed on the live context (`_setLoras`), a slot cleared, the prompt evaluated again. */
  switchLiveMs: number;
  ttftNewMixMs: number;
  /** Back to a mix a slot still holds: scales changed on the live context, that slot's KV reused. */
  switchBackMs: number;
  ttftBackMs: number;
  /** The same change through a new context with the (cached) adapters: every slot lost. */
  switchNewContextMs: number;
  ttftAfterNewContextMs: number;
  repeats: number;
}

/** Two rank-8 adapters on every projection of the model, scales changing between answers. */
export async function switchCost(options: {
  modelId: string;
  modelsDir: string;
  scratch: string;
  threads: number;
  contextSize: number;
  repeats: number;
  systemPrompt: string;
  adapterSlots: number;
}): Promise<SwitchCost> {
  const entry = findCatalogueEntry(options.modelId)!;
  const modelPath = join(options.modelsDir, entry.fileName);
  const shapes = await readBaseModelShapes(modelPath);
  const paths = [join(options.scratch, 'switch-a.gguf'), join(options.scratch, 'switch-b.gguf')];
  for (const [index, path] of paths.entries())
    await writeLoraAdapter(
      path,
      freshLora(shapes, {
        targets: /(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/,
        rank: 8,
        alpha: 16,
        b: 0.001 * (index + 1),
        seed: index + 3,
      }),
    );
  const model = new LocalModel({
    source: modelPath,
    entry,
    cacheDir: options.modelsDir,
    pypiIndexUrl: 'https://pypi.org/simple/',
    threads: options.threads,
    contextSize: options.contextSize,
    temperature: 0,
    systemPrompt: options.systemPrompt,
    adapterSlots: options.adapterSlots,
  });
  const set = ([a, b]: readonly [number, number]): ServedAdapter[] =>
    [
      { name: 'a', version: '1', scale: a, path: paths[0]! },
      { name: 'b', version: '1', scale: b, path: paths[1]! },
    ].filter((adapter) => adapter.scale > 0);
  let question = 0;
  const ask = (adapters: ServedAdapter[]) =>
    model.generate({ messages: [{ role: 'user', content: `Write a Python function that adds ${question++} to a number.` }], maxTokens: 2, adapters });
  const home: [number, number] = [1, 1];
  const others: [number, number][] = [
    [0.5, 1],
    [1, 0.5],
    [0.5, 0.5],
    [0, 1],
    [1, 0],
    [0.5, 0],
    [0, 0.5],
  ];
  try {
    await ask(set(home));
    await ask(set(home));
    const rows = {
      same: [] as number[],
      live: [] as number[],
      liveTtft: [] as number[],
      back: [] as number[],
      backTtft: [] as number[],
      fresh: [] as number[],
      freshTtft: [] as number[],
    };
    for (let r = 0; r < options.repeats; r++) {
      rows.same.push((await ask(set(home))).ttftMs);
      const other = others[r % others.length]!;
      const newMix = await ask(set(other));
      rows.live.push(newMix.adapterSwitchMs);
      rows.liveTtft.push(newMix.ttftMs);
      const back = await ask(set(home));
      rows.back.push(back.adapterSwitchMs);
      rows.backTtft.push(back.ttftMs);
      // The same change through a new context: hide the live setter on this context only.
      const loaded = (model as unknown as { loaded: { context: Record<string, unknown> } }).loaded;
      loaded.context._setLoras = undefined;
      const fresh = await ask(set(other));
      rows.fresh.push(fresh.adapterSwitchMs);
      rows.freshTtft.push(fresh.ttftMs);
      await ask(set(home));
      progress(
        `switch r${r}: same ttft ${round(rows.same.at(-1)!)}; new mix live ${round(newMix.adapterSwitchMs, 2)} ms (ttft ${round(newMix.ttftMs)}); back ${round(back.adapterSwitchMs, 2)} ms (ttft ${round(back.ttftMs)}); new context ${round(fresh.adapterSwitchMs, 1)} ms (ttft ${round(fresh.ttftMs)})`,
      );
    }
    const med = (values: number[]) => round(percentile(values, 0.5), 2);
    return {
      model: options.modelId,
      contextSize: options.contextSize,
      adapterSlots: options.adapterSlots,
      ttftSameMs: med(rows.same),
      switchLiveMs: med(rows.live),
      ttftNewMixMs: med(rows.liveTtft),
      switchBackMs: med(rows.back),
      ttftBackMs: med(rows.backTtft),
      switchNewContextMs: med(rows.fresh),
      ttftAfterNewContextMs: med(rows.freshTtft),
      repeats: options.repeats,
    };
  } finally {
    await model.dispose();
  }
}
