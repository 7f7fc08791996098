/**
 * Runs npllm-train (learning/native/, built by `npm run build:trainer`) as a child process: the
 * trainer never shares the serving process's CPU time or memory, can be paused while a question
 * is answered (SIGSTOP/SIGCONT) and stopped at a step boundary (SIGTERM: it still writes the
 * adapter). It speaks one JSON object per stdout line; this turns them into typed events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cancelled, NpllmError } from '../../../shared/errors.js';
import { packageRoot } from '../base/paths.js';

export type TrainerEvent =
  | { type: 'start'; mode: 'train' | 'eval' | 'importance'; [key: string]: unknown }
  /** `loss` is null when it was not finite (the trainer then stops with a `diverged` error). */
  | { type: 'step'; step: number; epoch: number; loss: number | null; penalty?: number; lr: number; tokens: number; elapsedMs: number }
  | { type: 'checkpoint'; step: number; out: string }
  | { type: 'sample'; sample: number; [key: string]: unknown }
  | { type: 'eval'; nll: number; perplexity: number; tokens: number; windows: number; ctx: number; adapter: string | null }
  | { type: 'done'; stopped: string; steps?: number; tokens?: number; loss?: number; elapsedMs?: number; tokensPerSecond?: number; out?: string }
  | { type: 'error'; code: string; message: string };

export interface TrainerHooks {
  onEvent?: ((event: TrainerEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** The binary `npm run build:trainer` built last (or NPLLM_TRAINER), with a fix when there is none. */
export function trainerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const fix = 'Run "npm run build:trainer" in the npllm package (it needs cmake and g++), or set NPLLM_TRAINER to a built npllm-train.';
  const explicit = env['NPLLM_TRAINER'];
  if (explicit) {
    if (!existsSync(explicit)) throw new NpllmError('MODEL_NOT_FOUND', `NPLLM_TRAINER names ${explicit}, which does not exist.`, { fix });
    return explicit;
  }
  const manifest = join(packageRoot, '.cache', 'trainer', 'manifest.json');
  let binary: unknown;
  try {
    binary = (JSON.parse(readFileSync(manifest, 'utf8')) as { binary?: unknown }).binary;
  } catch (cause) {
    throw new NpllmError('MODEL_NOT_FOUND', 'The LoRA trainer (npllm-train) has not been built.', { cause, fix });
  }
  if (typeof binary !== 'string' || !existsSync(binary)) throw new NpllmError('MODEL_NOT_FOUND', `The trainer named by ${manifest} is missing.`, { fix });
  return binary;
}

/** One trainer process; `finished` settles with every event it printed once it exits. */
export class TrainerProcess {
  readonly finished: Promise<TrainerEvent[]>;
  private readonly child: ChildProcess;
  private paused = false;

  constructor(binary: string, args: readonly string[], hooks: TrainerHooks = {}) {
    if (hooks.signal?.aborted) throw cancelled('Training was cancelled.');
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: TrainerEvent[] = [];
    let stderr = '';
    this.child.stderr!.on('data', (chunk: Buffer) => {
      // The tail is what explains a crash; the rest is llama.cpp's loading chatter.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const lines = createInterface({ input: this.child.stdout! });
    let listenerFailure: unknown;
    lines.on('line', (line) => {
      if (!line.startsWith('{') || listenerFailure !== undefined) return;
      // A listener runs inside a stream callback: anything it throws would take the whole engine down, so it ends this run instead.
      try {
        const event = JSON.parse(line) as TrainerEvent;
        events.push(event);
        hooks.onEvent?.(event);
      } catch (cause) {
        listenerFailure = cause;
        this.stop();
      }
    });
    const onAbort = () => this.stop();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    this.finished = new Promise<TrainerEvent[]>((resolve, reject) => {
      this.child.on('error', (cause) => reject(new NpllmError('INTERNAL', `The trainer could not start: ${cause.message}`, { cause, fix: 'Rebuild it: npm run build:trainer -- --force.' })));
      this.child.on('close', (code, killedBy) => {
        hooks.signal?.removeEventListener('abort', onAbort);
        if (listenerFailure !== undefined) {
          reject(new NpllmError('INTERNAL', `The trainer's output could not be handled: ${listenerFailure instanceof Error ? listenerFailure.message : JSON.stringify(listenerFailure)}.`, { cause: listenerFailure, fix: 'Rebuild the trainer (npm run build:trainer -- --force); if it persists, report it with NPLLM_LOG_LEVEL=debug output.' }));
          return;
        }
        const failure = events.find((event): event is Extract<TrainerEvent, { type: 'error' }> => event.type === 'error');
        if (code === 0 && !failure) {
          if (hooks.signal?.aborted && !events.some((event) => event.type === 'done')) reject(cancelled('Training was cancelled.'));
          else resolve(events);
          return;
        }
        const why = failure ? `${failure.code}: ${failure.message}` : `exit ${code ?? killedBy}; ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        reject(new NpllmError(failure?.code === 'usage' || failure?.code === 'input' ? 'REQUEST_INVALID' : 'INTERNAL', `The trainer failed (${why}).`, {
          fix: failure?.code === 'diverged' ? 'Lower the learning rate (learning.lr).' : 'Check the training data and the model; NPLLM_LOG_LEVEL=debug shows the trainer output.',
          details: { events: events.length },
        }));
      });
    });
  }

  /** The child's pid (for measuring its memory), or undefined if it could not start. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Gives the CPU back at once (a question is being answered); the step resumes where it was. */
  pause(): void {
    if (this.paused || this.child.exitCode !== null) return;
    this.paused = this.child.kill('SIGSTOP');
  }

  resume(): void {
    if (!this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** Ends after the current step; the trainer still writes the adapter it has. */
  stop(): void {
    this.resume();
    this.child.kill('SIGTERM');
  }
}
