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
  /** `layers` is the [lowest, highest] block the adapter changes, of `modelLayers` (train and importance). */
  | { type: 'start'; mode: 'train' | 'eval' | 'importance'; layers?: [number, number]; modelLayers?: number; [key: string]: unknown }
  /** `loss` is null when it was not finite (the trainer then stops with a `diverged` error). */
  | { type: 'step'; step: number; epoch: number; loss: number | null; penalty?: number; lr: number; tokens: number; elapsedMs: number }
  | { type: 'checkpoint'; step: number; out: string }
  | { type: 'sample'; sample: number; [key: string]: unknown }
  | {
      type: 'eval';
      nll: number;
      perplexity: number;
      tokens: number;
      windows: number;
      ctx: number;
      adapter: string | null;
      elapsedMs?: number;
      peakRssMb?: number;
    }
  /** `peakRssMb`: the trainer process's peak resident memory (train and importance). */
  | {
      type: 'done';
      stopped: string;
      steps?: number;
      tokens?: number;
      loss?: number;
      elapsedMs?: number;
      tokensPerSecond?: number;
      peakRssMb?: number;
      out?: string;
    }
  | { type: 'error'; code: string; message: string };

export interface TrainerHooks {
  onEvent?: ((event: TrainerEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** The weight matrices of each block a LoRA adapter can change (llama and qwen2 name them alike). */
export const loraTargets = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'] as const;
export type LoraTarget = (typeof loraTargets)[number];

/**
 * The blocks a new adapter covers: every one, the `top` N nearest the output (all of them when the
 * model has fewer), or blocks `from`…`to` inclusive, counted from 0 at the input. The backward pass
 * stops at the lowest block holding an adapter, so `{ top: 8 }` of 28 blocks also skips most of it.
 */
export type LayerSelection = 'all' | { top: number } | { from: number; to: number };

/** Settings every trainer mode shares. */
export interface TrainerRunOptions {
  model: string;
  data: readonly string[];
  /** Window length in tokens: 32, 64, 128, 256 or a multiple of 256. */
  ctx?: number;
  threads?: number;
}

export interface TrainOptions extends TrainerRunOptions {
  out: string;
  /** Continue this adapter: its file fixes rank, alpha, targets and layers (those options are then ignored). */
  adapterIn?: string | undefined;
  rank?: number;
  alpha?: number;
  targets?: readonly LoraTarget[];
  layers?: LayerSelection;
  lr?: number;
  /** Linear decay from `lr` to this by the last step; constant `lr` when absent. */
  lrMin?: number;
  warmup?: number;
  weightDecay?: number;
  steps?: number;
  epochs?: number;
  seed?: number;
  /** False keeps the windows in file order. */
  shuffle?: boolean;
  saveEvery?: number;
  /** The MAS penalty λ·Σ Ω̂(θ − θ*)²: Ω from `importance`, θ* = `masAnchor` or else `adapterIn`. */
  mas?: { importance: string; lambda: number; anchor?: string | undefined } | undefined;
}

export interface EvalOptions extends TrainerRunOptions {
  adapter?: string | undefined;
  scale?: number;
  maxWindows?: number;
}

export interface ImportanceOptions extends TrainerRunOptions {
  adapter: string;
  out: string;
  maxWindows?: number;
}

function invalidOption(message: string): NpllmError {
  return new NpllmError('REQUEST_INVALID', message, { fix: 'Correct the learning settings (learning/native/README.md lists what the trainer accepts).' });
}

const count = (name: string, value: number, min = 1): string => {
  if (!Number.isInteger(value) || value < min) throw invalidOption(`${name} must be an integer >= ${min}, got ${value}.`);
  return String(value);
};
const number = (name: string, value: number): string => {
  if (!Number.isFinite(value)) throw invalidOption(`${name} must be a finite number, got ${value}.`);
  return String(value);
};

/** The `--layers` value for a selection. */
export function layersArg(selection: LayerSelection): string {
  if (selection === 'all') return 'all';
  if ('top' in selection) return `top:${count('layers.top', selection.top)}`;
  count('layers.from', selection.from, 0);
  count('layers.to', selection.to, 0);
  if (selection.to < selection.from) throw invalidOption(`layers.from (${selection.from}) is after layers.to (${selection.to}).`);
  return `${selection.from}-${selection.to}`;
}

/** Reads a selection written as `--layers` takes it: `all`, `top:N`, `A-B` or `A`. */
export function parseLayerSelection(text: string): LayerSelection {
  const spec = text.trim();
  if (spec === 'all') return 'all';
  const top = /^top:(\d+)$/.exec(spec);
  const range = /^(\d+)(?:-(\d+))?$/.exec(spec);
  const selection: LayerSelection | null = top ? { top: Number(top[1]) } : range ? { from: Number(range[1]), to: Number(range[2] ?? range[1]) } : null;
  if (!selection) throw invalidOption(`layers "${text}" is not all, top:N, A-B or A (blocks counted from 0 at the input).`);
  layersArg(selection);
  return selection;
}

function commonArgs(options: TrainerRunOptions): string[] {
  if (options.data.length === 0) throw invalidOption('The trainer needs at least one data file.');
  return [
    '--model',
    options.model,
    ...options.data.flatMap((file) => ['--data', file]),
    ...(options.ctx === undefined ? [] : ['--ctx', count('ctx', options.ctx, 8)]),
    ...(options.threads === undefined ? [] : ['--threads', count('threads', options.threads)]),
  ];
}

/** Arguments of `npllm-train train`; options left out take the trainer's defaults (native/README.md). */
export function trainArgs(options: TrainOptions): string[] {
  const optional = (flag: string, value: number | undefined, format: (name: string, value: number) => string) =>
    value === undefined ? [] : [flag, format(flag.slice(2), value)];
  if (options.targets?.length === 0) throw invalidOption('targets is empty: name at least one of ' + loraTargets.join(', ') + '.');
  return [
    'train',
    ...commonArgs(options),
    '--out',
    options.out,
    ...(options.adapterIn ? ['--adapter-in', options.adapterIn] : []),
    ...optional('--rank', options.rank, count),
    ...optional('--alpha', options.alpha, number),
    ...(options.targets ? ['--targets', options.targets.join(',')] : []),
    ...(options.layers ? ['--layers', layersArg(options.layers)] : []),
    ...optional('--lr', options.lr, number),
    ...optional('--lr-min', options.lrMin, number),
    ...optional('--warmup', options.warmup, (name, value) => count(name, value, 0)),
    ...optional('--wd', options.weightDecay, number),
    ...optional('--steps', options.steps, (name, value) => count(name, value, 0)),
    ...optional('--epochs', options.epochs, count),
    ...optional('--seed', options.seed, (name, value) => count(name, value, 0)),
    ...(options.shuffle === false ? ['--no-shuffle'] : []),
    ...optional('--save-every', options.saveEvery, count),
    ...(options.mas
      ? [
          '--mas-importance',
          options.mas.importance,
          '--mas-lambda',
          number('mas.lambda', options.mas.lambda),
          ...(options.mas.anchor ? ['--mas-anchor', options.mas.anchor] : []),
        ]
      : []),
  ];
}

/** Arguments of `npllm-train eval`: held-out NLL of the base, or of the base with `adapter`. */
export function evalArgs(options: EvalOptions): string[] {
  return [
    'eval',
    ...commonArgs(options),
    ...(options.adapter ? ['--adapter', options.adapter] : []),
    ...(options.scale === undefined ? [] : ['--scale', number('scale', options.scale)]),
    ...(options.maxWindows === undefined ? [] : ['--max-windows', count('maxWindows', options.maxWindows)]),
  ];
}

/** Arguments of `npllm-train importance`: MAS Ω of `adapter` over the data, written to `out`. */
export function importanceArgs(options: ImportanceOptions): string[] {
  return [
    'importance',
    ...commonArgs(options),
    '--adapter',
    options.adapter,
    '--out',
    options.out,
    ...(options.maxWindows === undefined ? [] : ['--max-windows', count('maxWindows', options.maxWindows)]),
  ];
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
      this.child.on('error', (cause) =>
        reject(new NpllmError('INTERNAL', `The trainer could not start: ${cause.message}`, { cause, fix: 'Rebuild it: npm run build:trainer -- --force.' })),
      );
      this.child.on('close', (code, killedBy) => {
        hooks.signal?.removeEventListener('abort', onAbort);
        if (listenerFailure !== undefined) {
          reject(
            new NpllmError(
              'INTERNAL',
              `The trainer's output could not be handled: ${listenerFailure instanceof Error ? listenerFailure.message : JSON.stringify(listenerFailure)}.`,
              {
                cause: listenerFailure,
                fix: 'Rebuild the trainer (npm run build:trainer -- --force); if it persists, report it with NPLLM_LOG_LEVEL=debug output.',
              },
            ),
          );
          return;
        }
        const failure = events.find((event): event is Extract<TrainerEvent, { type: 'error' }> => event.type === 'error');
        if (code === 0 && !failure) {
          if (hooks.signal?.aborted && !events.some((event) => event.type === 'done')) reject(cancelled('Training was cancelled.'));
          else resolve(events);
          return;
        }
        const why = failure ? `${failure.code}: ${failure.message}` : `exit ${code ?? killedBy}; ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        reject(
          new NpllmError(failure?.code === 'usage' || failure?.code === 'input' ? 'REQUEST_INVALID' : 'INTERNAL', `The trainer failed (${why}).`, {
            fix:
              failure?.code === 'diverged'
                ? 'Lower the learning rate (learning.lr).'
                : 'Check the training data and the model; NPLLM_LOG_LEVEL=debug shows the trainer output.',
            details: { events: events.length },
          }),
        );
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
