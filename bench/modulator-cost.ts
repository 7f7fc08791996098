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
    learner.update(copy, { interactionId: `cost-${i}`, features: example.input as unknown as Record<string, unknown>, action, propensity, reward: random() > 0.5 ? 0.5 : -0.5 });
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
export async function planCost(engine: Engine, root: string, examples: readonly { prompt: string }[], candidates: { name: string; scope: string; path: string }[], repeats: number): Promise<{ planP50Ms: number; planP95Ms: number }> {
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
      probe: { project: true, indexed: true, distances: [0.3, 0.35, 0.4, 0.41, 0.45], identifiers: 1, paths: 0, symbols: 0, files: 0, namedInHistory: false, projectWording: false },
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
  /** Time to first token with the same adapters and scales as the previous answer (system prompt reused from the KV cache). */
  ttftSameMs: number;
  /** Changing scales on the live context (`_setLoras`) and clearing the sequence. */
  switchLiveMs: number;
  ttftAfterLiveSwitchMs: number;
  /** A new context with the (cached) adapters at the new scales. */
  switchNewContextMs: number;
  ttftAfterNewContextMs: number;
  repeats: number;
}

/** Two rank-8 adapters on every projection of the model, scales alternating between answers. */
export async function switchCost(options: { modelId: string; modelsDir: string; scratch: string; threads: number; contextSize: number; repeats: number; systemPrompt: string }): Promise<SwitchCost> {
  const entry = findCatalogueEntry(options.modelId)!;
  const modelPath = join(options.modelsDir, entry.fileName);
  const shapes = await readBaseModelShapes(modelPath);
  const paths = [join(options.scratch, 'switch-a.gguf'), join(options.scratch, 'switch-b.gguf')];
  for (const [index, path] of paths.entries()) await writeLoraAdapter(path, freshLora(shapes, { targets: /(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/, rank: 8, alpha: 16, b: 0.001 * (index + 1), seed: index + 3 }));
  const model = new LocalModel({ source: modelPath, entry, cacheDir: options.modelsDir, pypiIndexUrl: 'https://pypi.org/simple/', threads: options.threads, contextSize: options.contextSize, temperature: 0, systemPrompt: options.systemPrompt });
  const set = (a: number, b: number): ServedAdapter[] => [
    { name: 'a', version: '1', scale: a, path: paths[0]! },
    { name: 'b', version: '1', scale: b, path: paths[1]! },
  ];
  const ask = (adapters: ServedAdapter[], index: number) => model.generate({ messages: [{ role: 'user', content: `Write a Python function that adds ${index} to a number.` }], maxTokens: 2, adapters });
  try {
    await ask(set(1, 1), 0);
    await ask(set(1, 1), 1);
    const same: number[] = [];
    const live: number[] = [];
    const liveTtft: number[] = [];
    const fresh: number[] = [];
    const freshTtft: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      same.push((await ask(set(1, 1), 10 + r)).ttftMs);
      const afterLive = await ask(set(0.5, 1), 20 + r);
      live.push(afterLive.adapterSwitchMs);
      liveTtft.push(afterLive.ttftMs);
      await ask(set(1, 1), 30 + r);
      // The same change through a new context: hide the live setter on this context only.
      const loaded = (model as unknown as { loaded: { context: Record<string, unknown> } }).loaded;
      loaded.context._setLoras = undefined;
      const afterNew = await ask(set(0.5, 1), 40 + r);
      fresh.push(afterNew.adapterSwitchMs);
      freshTtft.push(afterNew.ttftMs);
      await ask(set(1, 1), 50 + r);
      progress(`switch r${r}: live ${round(afterLive.adapterSwitchMs, 2)} ms (ttft ${round(afterLive.ttftMs)}), new context ${round(afterNew.adapterSwitchMs, 1)} ms (ttft ${round(afterNew.ttftMs)}), same ${round(same.at(-1)!)}`);
    }
    const med = (values: number[]) => round(percentile(values, 0.5), 2);
    return { model: options.modelId, contextSize: options.contextSize, ttftSameMs: med(same), switchLiveMs: med(live), ttftAfterLiveSwitchMs: med(liveTtft), switchNewContextMs: med(fresh), ttftAfterNewContextMs: med(freshTtft), repeats: options.repeats };
  } finally {
    await model.dispose();
  }
}
