/**
 * An `Embedder` whose model runs in a worker thread (embed-worker.ts). Measured before the move:
 * each inference call held the event loop for ~45 ms per chunk, so indexing inside the server or
 * the desktop engine froze streaming answers; now the loop only passes texts and vectors.
 *
 * onnxruntime-node's native binding registers once per process: a second thread that loads it
 * fails ("Module did not self-register"). So one worker per process serves every embedder, lives
 * as long as the process (unreferenced while idle, so it never keeps it alive), and the engine's
 * own thread never imports ONNX Runtime.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { cancelled, ModelError, NpllmError, type SerializedError } from '../../../../shared/errors.js';
import type { Embedder } from '../types.js';
import { miniLm } from './minilm-files.js';
import { checkMiniLmOptions, miniLmDefaults, type MiniLmOptions } from './minilm-options.js';

export type HostRequest =
  { type: 'embed'; id: number; key: string; options: MiniLmOptions; texts: readonly string[] } | { type: 'release'; id: number; key: string };
export type HostReply = { id: number; vectors: Float32Array[]; error?: undefined } | { id: number; error: SerializedError; vectors?: undefined };

/** Texts per message: cancelling waits for one message at most (~0.5 s of chunks). */
const textsPerMessage = 16;

type Request = { type: 'embed'; key: string; options: MiniLmOptions; texts: readonly string[] } | { type: 'release'; key: string };

/** The process's one embedding worker and the requests waiting on it. */
class EmbeddingHost {
  private worker: Worker | undefined;
  private failure: NpllmError | undefined;
  private readonly pending = new Map<number, { resolve: (vectors: Float32Array[]) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  get started(): boolean {
    return this.worker !== undefined;
  }

  send(request: Request): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.start();
    const id = this.nextId++;
    // A waiting request must keep the process alive; an idle worker must not.
    worker.ref();
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } satisfies HostRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker();
    worker.unref();
    worker.on('message', (reply: HostReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error) waiting?.reject(NpllmError.fromJSON(reply.error));
      else waiting?.resolve(reply.vectors);
    });
    // The binding cannot be loaded again in a new thread, so a dead worker ends embedding for this process.
    const fail = (reason: string, cause?: unknown) => {
      this.failure ??= new ModelError('MODEL_LOAD_FAILED', `The embedding worker ${reason}; embedding is unavailable until npllm restarts.`, {
        cause,
        fix: 'Restart npllm. If it happens again, delete the embedding model folder so it is fetched anew, and report it with NPLLM_LOG_LEVEL=debug.',
      });
      for (const waiting of this.pending.values()) waiting.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', (cause) => fail(`failed (${cause.message})`, cause));
    worker.on('exit', (code) => fail(`stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }
}

const host = new EmbeddingHost();

export class WorkerEmbedder implements Embedder {
  readonly id = miniLm.id;
  readonly dimensions = miniLm.dimensions;
  private readonly options: MiniLmOptions;
  private readonly key: string;

  constructor(options: Pick<MiniLmOptions, 'modelDir'> & Partial<MiniLmOptions>) {
    this.options = checkMiniLmOptions({ ...miniLmDefaults(), ...options });
    this.key = JSON.stringify([this.options.modelDir, this.options.threads, this.options.batchSize]);
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += textsPerMessage) {
      if (signal?.aborted) throw cancelled('Embedding was cancelled.');
      vectors.push(...(await host.send({ type: 'embed', key: this.key, options: this.options, texts: texts.slice(start, start + textsPerMessage) })));
    }
    if (signal?.aborted) throw cancelled('Embedding was cancelled.');
    return vectors;
  }

  /** Releases this model's session in the worker; the worker itself stays for the next embedder. */
  async dispose(): Promise<void> {
    if (host.started) await host.send({ type: 'release', key: this.key }).catch(() => undefined);
  }
}

/**
 * The compiled worker beside this file; from TypeScript sources (tests) the .ts file, loaded
 * through tsx's module hooks, since Node 20 cannot run TypeScript itself.
 */
function spawnWorker(): Worker {
  const compiled = new URL('./embed-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled);
  const source = new URL('./embed-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`, { eval: true });
}
