/**
 * Measuring the oracle for held-out examples: the NLL of each reference under every mix of the
 * candidates' scale levels, in a child process (oracle-worker.ts) the CPU arbiter pauses while
 * answers are generated. Examples are split by held-out unit (file) into the part the network is
 * fitted on and the part its oracle gap is measured on.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { cancelled, ModulatorError } from '../../../shared/errors.js';

/** A background worker the engine can pause while a question is answered. */
export interface PausableWorker {
  pause(): void;
  resume(): void;
}

export interface GridJob {
  modelPath: string;
  contextSize: number;
  threads: number;
  adapters: string[];
  mixes: number[][];
  examples: { prompt: string; reference: string }[];
}

/** nll[mix][example], measured by the worker. */
export async function measureGrid(
  job: GridJob,
  hooks: {
    signal?: AbortSignal | undefined;
    onWorker?: ((worker: PausableWorker) => () => void) | undefined;
    onMeasured?: ((done: number, total: number) => void) | undefined;
  } = {},
): Promise<number[][]> {
  if (hooks.signal?.aborted) throw cancelled('The modulator fit was cancelled.');
  const compiled = new URL('./oracle-worker.js', import.meta.url);
  const args = existsSync(fileURLToPath(compiled))
    ? [fileURLToPath(compiled)]
    : ['--import', 'tsx', fileURLToPath(new URL('./oracle-worker.ts', import.meta.url))];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let paused = false;
  const worker: PausableWorker = {
    pause: () => {
      if (!paused && child.exitCode === null) paused = child.kill('SIGSTOP');
    },
    resume: () => {
      if (paused) child.kill('SIGCONT');
      paused = false;
    },
  };
  const release = hooks.onWorker?.(worker);
  const onAbort = () => {
    worker.resume();
    child.kill('SIGTERM');
  };
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const nll = job.mixes.map(() => job.examples.map(() => Number.NaN));
  const total = job.mixes.length * job.examples.length;
  let done = 0;
  let failure: string | null = null;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const event = JSON.parse(line) as { type: string; mix?: number; example?: number; nll?: number; message?: string };
    if (event.type === 'nll') {
      nll[event.mix!]![event.example!] = event.nll!;
      hooks.onMeasured?.(++done, total);
    } else if (event.type === 'error') failure = event.message ?? 'unknown error';
  });
  child.stdin.end(JSON.stringify(job));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (hooks.signal?.aborted) throw cancelled('The modulator fit was cancelled.');
    if (code !== 0 || failure) {
      throw new ModulatorError(
        'LEARNING_FAILED',
        `Measuring the oracle grid failed: ${failure ?? `exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`}.`,
        { fix: 'Check that the base model and the adapters load (npllm --query …); NPLLM_LOG_LEVEL=debug shows more.' },
      );
    }
    return nll;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    release?.();
  }
}

/**
 * Cuts a held-out text into what the model is given (the first `promptShare` of its lines, at
 * least one) and the reference it must continue with, at most `maxChars` of it.
 */
export function splitExample(text: string, options: { promptShare: number; maxChars: number }): { prompt: string; reference: string } | null {
  const lines = text.split('\n');
  if (lines.length < 3) return null;
  const cut = Math.max(1, Math.min(lines.length - 1, Math.round(lines.length * options.promptShare)));
  const prompt = lines.slice(0, cut).join('\n').slice(-options.maxChars);
  const reference = `\n${lines.slice(cut).join('\n')}`.slice(0, options.maxChars);
  return reference.trim() ? { prompt, reference } : null;
}
