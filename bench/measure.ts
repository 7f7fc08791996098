/**
 * What both benchmarks share: the prompts, one timed generation on a bare llama.cpp sequence, and
 * the statistics. Every latency is taken with the same outside clock for the bare runtime and the
 * engine, so their difference is the engine's overhead and nothing else.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { LlamaChatSession, type LlamaContextSequence } from 'node-llama-cpp';

/** Varied on purpose: short and long questions, code in the prompt, several languages. */
export const prompts: readonly string[] = [
  'Write a Python function that returns the n-th Fibonacci number iteratively.',
  'How do I read a file line by line in Node.js with async iteration?',
  'Explain what this JavaScript does: `const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);`',
  'Write a SQL query that returns, for each customer, their three most recent orders.',
  [
    'Find the bug in this TypeScript function and fix it:',
    '```ts',
    'export function average(values: number[]): number {',
    '  let total = 0;',
    '  for (let i = 0; i <= values.length; i++) {',
    '    total += values[i];',
    '  }',
    '  return total / values.length;',
    '}',
    '',
    'export function median(values: number[]): number {',
    '  const sorted = values.sort();',
    '  const middle = Math.floor(sorted.length / 2);',
    '  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;',
    '}',
    '```',
  ].join('\n'),
  'Write a bash one-liner that counts the lines of every .ts file under src/ and prints the total.',
];

export interface Sample {
  /** From the call to the first streamed text. */
  ttftMs: number;
  /** Generated tokens after the first, per second, up to the moment the call returned. */
  tokensPerSecond: number;
  tokens: number;
  totalMs: number;
}

/**
 * Tokens/s leaves out the first token, whose cost is prompt processing and is already in TTFT;
 * what remains is the decode rate a user watches, including any work done after the last token.
 */
export function sample(startedAt: number, firstTextAt: number | undefined, endedAt: number, tokens: number): Sample {
  const firstAt = firstTextAt ?? endedAt;
  const decodeSeconds = (endedAt - firstAt) / 1000;
  return {
    ttftMs: firstAt - startedAt,
    tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : 0,
    tokens,
    totalMs: endedAt - startedAt,
  };
}

export interface BareSettings {
  systemPrompt: string;
  maxTokens: number;
  temperature: number;
}

export interface BareSample extends Sample {
  /** Building the LlamaChatSession, which LocalModel does for every request. */
  setupMs: number;
  /** Prompt tokens llama.cpp evaluated; the rest was reused from the sequence's KV cache. */
  promptTokens: number;
}

/**
 * The same steps LocalModel takes for a request: a fresh chat session on the one long-lived
 * sequence, the system prompt as history, promptWithMeta with the same options. With a signal, the
 * generation stops (without throwing) when it fires, so a crawling configuration cannot stall a run.
 */
export async function bareGenerate(sequence: LlamaContextSequence, question: string, settings: BareSettings, signal?: AbortSignal): Promise<BareSample> {
  const startedAt = performance.now();
  let firstTextAt: number | undefined;
  let tokens = 0;
  const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
  try {
    if (settings.systemPrompt) session.setChatHistory([{ type: 'system', text: settings.systemPrompt }]);
    const setupMs = performance.now() - startedAt;
    const inputBefore = sequence.tokenMeter.getState().usedInputTokens;
    await session.promptWithMeta(question, {
      maxTokens: settings.maxTokens,
      temperature: settings.temperature,
      ...(signal ? { signal, stopOnAbortSignal: true } : { stopOnAbortSignal: false }),
      onToken: (chunk) => {
        tokens += chunk.length;
      },
      onTextChunk: () => {
        firstTextAt ??= performance.now();
      },
    });
    const endedAt = performance.now();
    return { ...sample(startedAt, firstTextAt, endedAt, tokens), setupMs, promptTokens: sequence.tokenMeter.getState().usedInputTokens - inputBefore };
  } finally {
    session.dispose({ disposeSequence: false });
  }
}

/**
 * How much CPU everything else on the machine used meanwhile, in cores: all busy time from
 * /proc/stat minus this process's own. Background work skews llama.cpp badly on 2 cores, so each
 * result states it; NaN where /proc/stat does not exist. A virtual machine's host taking the CPU
 * away does not show here (its time is charged to whoever was running).
 */
export function otherCpuMeter(): () => number {
  const start = { busy: procBusySeconds(), own: ownCpuSeconds(), wall: performance.now() };
  return () => {
    const wallSeconds = (performance.now() - start.wall) / 1000;
    // /proc/stat counts in 10 ms ticks and cpuUsage in microseconds, so "nothing" can come out a hair below zero.
    return Math.max(0, round((procBusySeconds() - start.busy - (ownCpuSeconds() - start.own)) / wallSeconds, 2));
  };
}

function procBusySeconds(): number {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return Number.NaN;
  }
  // cpu  user nice system idle iowait irq softirq steal …, in USER_HZ (100 per second on Linux).
  const fields = stat.split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = fields[3]! + fields[4]!;
  return (fields.reduce((sum, value) => sum + value, 0) - idle) / 100;
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest rank: the smallest sample with at least `fraction` of the samples at or below it. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

/**
 * Single-thread memory read bandwidth, GB/s: memcmp of two equal buffers far larger than any cache
 * (Buffer.compare runs libc's vectorised memcmp, which reads both buffers once). Decoding a token
 * reads every weight once, so model bytes ÷ this is the fastest a token can be on one thread.
 */
export function readBandwidthGBps(bytes = 512 * 1024 * 1024, repeats = 5): number {
  const a = Buffer.alloc(bytes, 7);
  const b = Buffer.alloc(bytes, 7);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    if (Buffer.compare(a, b) !== 0) throw new Error('equal buffers compared unequal');
    best = Math.min(best, performance.now() - started);
  }
  return (2 * bytes) / 1e9 / (best / 1000);
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function rssMb(): number {
  return round(process.memoryUsage.rss() / 1024 / 1024);
}

/** A busy neighbour skews every number here, so each run states the load it ran under. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(cells[0]!), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function positiveIntFlag(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}".`);
  return value;
}
