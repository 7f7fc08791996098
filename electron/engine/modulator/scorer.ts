/**
 * The oracle's measuring stick: the NLL of a reference text after a prompt, under a mix of LoRA
 * adapters at given scales, through the same llama.cpp inference path that answers (node-llama-cpp).
 * Scales change on the live context (`_setLoras`, ≈ 0.1 ms; a fresh context per mix when that
 * internal method is missing), and the sequence is cleared after every change, so no KV entry
 * computed under one mix is ever read under another.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';

export interface MixAdapter {
  path: string;
  scale: number;
}

export interface ScoredExample {
  /** Tokens the model sees before the reference (at least one). */
  prompt: readonly Token[];
  reference: readonly Token[];
}

interface LoraSetter {
  _setLoras?: (loras: { filePath: string; scale: number }[]) => Promise<void>;
}

export class MixScorer {
  private context: LlamaContext;
  private sequence: LlamaContextSequence;
  private current = '';

  private constructor(
    private readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly options: { contextSize: number; threads: number },
    context: LlamaContext,
  ) {
    this.context = context;
    this.sequence = context.getSequence();
  }

  static async open(options: { modelPath: string; contextSize: number; threads: number }): Promise<MixScorer> {
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    // Read, not mapped, as the engine reads it (model/README.md "Memory"): coder-1.5b takes 1.3 GB, not 1.9.
    const model = await llama.loadModel({ modelPath: options.modelPath, useMmap: false });
    const context = await model.createContext({ contextSize: options.contextSize, threads: options.threads, sequences: 1 });
    return new MixScorer(llama, model, options, context);
  }

  tokenize(text: string): Token[] {
    return this.model.tokenize(text, false);
  }

  /** Whether scales can change on a live context (node-llama-cpp's internal `_setLoras`). */
  get liveScales(): boolean {
    return typeof (this.context as unknown as LoraSetter)._setLoras === 'function';
  }

  /** Applies `mix` (adapters at scale 0 are left out: identical output, less work). */
  async setMix(mix: readonly MixAdapter[]): Promise<void> {
    const active = mix.filter((adapter) => adapter.scale !== 0).map((adapter) => ({ filePath: adapter.path, scale: adapter.scale }));
    const key = JSON.stringify(active);
    if (key === this.current) return;
    const setter = this.context as unknown as LoraSetter;
    if (typeof setter._setLoras === 'function') {
      await setter._setLoras(active);
      await this.sequence.clearHistory();
    } else {
      await this.context.dispose();
      this.context = await this.model.createContext({
        contextSize: this.options.contextSize,
        threads: this.options.threads,
        sequences: 1,
        ...(active.length ? { lora: { adapters: active } } : {}),
      });
      this.sequence = this.context.getSequence();
    }
    this.current = key;
  }

  /** Mean NLL (nats per token) of the reference after the prompt, under the current mix. */
  async score(example: ScoredExample): Promise<number> {
    const { prompt, reference } = example;
    if (prompt.length === 0 || reference.length === 0) throw new RangeError('a scored example needs a prompt and a reference');
    await this.sequence.clearHistory();
    const input = [...prompt, ...reference.slice(0, -1)];
    const first = prompt.length - 1;
    // NLL = logsumexp − target = max + log Σ exp(l − max) − target, so the max logit must be among
    // those returned. node-llama-cpp 3.22's `includeMax` adds it only when it is already in the
    // filter (so a target that is not the argmax was scored against its own logit: NLL 0.56 where
    // the full distribution gives 1.88); the greedy sampler's selected token is the argmax, and
    // `includeSelected` returns it.
    const items = input.map((token, index) =>
      index < first
        ? token
        : ([token, { generateNext: { logits: { filter: { tokens: [reference[index - first]!], includeSelected: true } }, totalLogitWeight: true } }] as const),
    );
    const results = await this.sequence.controlledEvaluate(items as Parameters<LlamaContextSequence['controlledEvaluate']>[0]);
    let total = 0;
    for (let j = 0; j < reference.length; j++) {
      const next = results[first + j]?.next;
      const target = next?.logits?.get(reference[j]!);
      if (!next?.logits || target === undefined || next.totalLogitWeight === undefined) throw new Error(`no logits for reference token ${j}`);
      const max = Math.max(...next.logits.values());
      total += max + Math.log(next.totalLogitWeight) - target;
    }
    return total / reference.length;
  }

  async dispose(): Promise<void> {
    await this.llama.dispose();
  }
}
