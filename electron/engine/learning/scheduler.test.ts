/**
 * The learning scheduler with the CPU arbiter and real child processes: trainers registered the
 * way consolidate() registers them (hooks.onTrainer) are stopped (SIGSTOP) while a question is
 * answered and continue (SIGCONT) after the last one, as /proc shows. consolidate() itself is replaced by a fake the test
 * drives, and the trainers are `/bin/sleep` (TrainerProcess runs any binary), so nothing trains.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LearnRequest, LearnResult } from '../../../shared/contract.js';
import { LearningError, NpllmError } from '../../../shared/errors.js';
import type { ProjectProfile } from '../../../shared/contract.js';
import { consolidate, type ConsolidationDeps, type ConsolidationHooks } from './consolidate.js';
import { CpuArbiter } from './cpu-arbiter.js';
import { TrainerProcess } from './native-trainer.js';
import { learnedSince } from './queries.js';
import { LearningScheduler } from './scheduler.js';

vi.mock('./consolidate.js', () => ({ consolidate: vi.fn() }));
vi.mock('./queries.js', () => ({ learnedSince: vi.fn() }));

interface Call {
  request: LearnRequest;
  hooks: ConsolidationHooks;
  resolve: (result: LearnResult) => void;
  reject: (error: unknown) => void;
}

let calls: Call[];
let trainers: TrainerProcess[];
let learner: LearningScheduler;
let arbiter: CpuArbiter;
let folders: string[];
const profiles = { profileOf: vi.fn<(root: string) => Promise<ProjectProfile | null>>() };
const deps = {
  db: {},
  home: '/nonexistent',
  learning: {},
  acceptThreshold: 0.5,
  adapters: {},
  profiles,
  base: () => Promise.reject(new Error('unused')),
} as unknown as ConsolidationDeps;

beforeEach(() => {
  calls = [];
  trainers = [];
  folders = [];
  vi.mocked(consolidate).mockImplementation(
    (_deps, request, hooks = {}) => new Promise<LearnResult>((resolve, reject) => calls.push({ request, hooks, resolve, reject })),
  );
  profiles.profileOf.mockResolvedValue(null);
  vi.mocked(learnedSince).mockResolvedValue({ lastRun: null, newInteractions: 0 });
  arbiter = new CpuArbiter();
  learner = new LearningScheduler(deps, arbiter, { onSwitch: false });
});

afterEach(async () => {
  for (const call of calls) call.reject(new Error('test over'));
  await learner.dispose();
  for (const trainer of trainers) trainer.stop();
  await Promise.all(trainers.map((trainer) => trainer.finished.catch(() => undefined)));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  vi.clearAllMocks();
});

let sleeps = 0;

/** A long-running child as a TrainerProcess, and its pid (found in /proc by its unique argument). */
async function sleeper(): Promise<{ trainer: TrainerProcess; pid: number }> {
  const seconds = `${60 + sleeps++}.${process.pid}`;
  const trainer = new TrainerProcess('/bin/sleep', [seconds]);
  // Killed at the end of the test: finished rejects then, which is expected.
  trainer.finished.catch(() => undefined);
  trainers.push(trainer);
  return { trainer, pid: await waitFor(() => childPid(seconds), 'the child process to start') };
}

function childPid(argument: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [binary, first] = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (binary === '/bin/sleep' && first === argument) return Number(entry);
    } catch {
      // Exited while we looked.
    }
  }
  return null;
}

/** The one-letter process state of /proc/<pid>/stat: T = stopped (SIGSTOP), S = sleeping, R = running. */
function stateOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Signals are delivered asynchronously: the state is polled for up to 3 s. */
async function expectState(pids: number[], stopped: boolean): Promise<void> {
  await waitFor(() => (pids.every((pid) => (stateOf(pid) === 'T') === stopped) ? true : null), `${pids.join(', ')} to be ${stopped ? 'stopped' : 'running'}`);
  for (const pid of pids) expect(stateOf(pid) === 'T', `state of ${pid}`).toBe(stopped);
}

async function waitFor<T>(probe: () => T | null, what: string, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A promise with its resolve, to hold an answer open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Starts a consolidation and waits until the (fake) consolidate() runs it. */
async function running(project: string): Promise<{ call: Call; result: Promise<LearnResult> }> {
  const before = calls.length;
  const result = learner.consolidate({ project });
  result.catch(() => undefined);
  const call = await waitFor(() => calls[before] ?? null, `consolidate(${project})`);
  return { call, result };
}

function resultFor(project: string, version = 1): LearnResult {
  return {
    runId: `run-${project}`,
    adapter: 'python',
    version,
    channel: 'stable',
    nllBefore: { [project]: 3 },
    nllAfter: { [project]: 2.9 },
    promoted: true,
    reason: 'promoted',
    parentVersion: null,
    lossCurve: [3],
    stats: { trainTexts: 1, replayTexts: 0, heldOutTexts: 1, steps: 1, trainTokens: 64, tokensPerSecond: 60, durationMs: 1, masLambda: 0 },
  };
}

function folder(): string {
  const path = realpathSync(mkdtempSync(join(tmpdir(), 'npllm-learner-')));
  folders.push(path);
  return path;
}

describe("CpuArbiter.whileAnswering with the scheduler's trainers", () => {
  it('stops every trainer while a question is answered and continues them afterwards', async () => {
    const { call } = await running('/p');
    const [one, two] = [await sleeper(), await sleeper()];
    call.hooks.onTrainer!(one.trainer);
    call.hooks.onTrainer!(two.trainer);
    await expectState([one.pid, two.pid], false);
    expect(learner.status().state).toBe('running');

    const answer = await arbiter.whileAnswering(async () => {
      await expectState([one.pid, two.pid], true);
      expect(learner.status().state).toBe('paused');
      return 'the answer';
    });
    expect(answer).toBe('the answer');
    await expectState([one.pid, two.pid], false);
    expect(learner.status().state).toBe('running');
  });

  it('continues only after the last of overlapping answers ends', async () => {
    const { call } = await running('/p');
    const { trainer, pid } = await sleeper();
    call.hooks.onTrainer!(trainer);
    const [first, second] = [gate(), gate()];
    const answers = [arbiter.whileAnswering(() => first.promise), arbiter.whileAnswering(() => second.promise)];
    await expectState([pid], true);
    first.open();
    await answers[0];
    // Give a wrong SIGCONT time to land before checking that none was sent.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stateOf(pid)).toBe('T');
    expect(learner.status().state).toBe('paused');
    second.open();
    await answers[1];
    await expectState([pid], false);
  });

  it('stops a trainer that starts during an answer until the answer ends', async () => {
    const { call } = await running('/p');
    const { trainer, pid } = await sleeper();
    const answering = gate();
    const answer = arbiter.whileAnswering(() => answering.promise);
    call.hooks.onTrainer!(trainer);
    await expectState([pid], true);
    answering.open();
    await answer;
    await expectState([pid], false);
  });

  it('continues the trainers when the answer fails', async () => {
    const { call } = await running('/p');
    const { trainer, pid } = await sleeper();
    call.hooks.onTrainer!(trainer);
    await expect(arbiter.whileAnswering(() => Promise.reject(new Error('generation failed')))).rejects.toThrow('generation failed');
    await expectState([pid], false);
  });

  it('leaves alone a trainer whose run released it', async () => {
    const { call } = await running('/p');
    const [kept, released] = [await sleeper(), await sleeper()];
    call.hooks.onTrainer!(kept.trainer);
    const release = call.hooks.onTrainer!(released.trainer);
    release();
    await arbiter.whileAnswering(async () => {
      await expectState([kept.pid], true);
      expect(stateOf(released.pid)).not.toBe('T');
    });
    await expectState([kept.pid, released.pid], false);
  });

  it('answers straight away with nothing to pause', async () => {
    expect(learner.status()).toEqual({ state: 'idle', current: null, queue: [], last: null, lastError: null });
    await expect(arbiter.whileAnswering(() => Promise.resolve(42))).resolves.toBe(42);
  });
});

describe('Learner queue and status', () => {
  it('runs consolidations one at a time, reporting the current one, the queue, the last result and error', async () => {
    const first = await running('/a');
    const second = learner.consolidate({ project: '/b', adapter: 'user' });
    second.catch(() => undefined);
    expect(calls).toHaveLength(1);
    first.call.hooks.onProgress!({ task: 'learning', label: 'python: step 1/8', fraction: 0.2, done: false });
    expect(learner.status()).toMatchObject({
      state: 'running',
      current: { project: '/a', adapter: null, progress: { label: 'python: step 1/8', fraction: 0.2 } },
      queue: ['/b'],
      last: null,
    });
    // The request's signal: aborted when the engine shuts down.
    expect(first.call.hooks.signal?.aborted).toBe(false);

    first.call.resolve(resultFor('/a'));
    await expect(first.result).resolves.toEqual(resultFor('/a'));
    const next = await waitFor(() => calls[1] ?? null, 'the queued run');
    expect(next.request).toEqual({ project: '/b', adapter: 'user' });
    expect(learner.status()).toMatchObject({ state: 'running', current: { project: '/b', adapter: 'user' }, queue: [], last: { runId: 'run-/a' } });

    next.reject(new LearningError('LEARNING_NO_DATA', '/b has too little to learn from.', { fix: 'Index it.' }));
    const error = await second.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NpllmError);
    expect((error as NpllmError).code).toBe('LEARNING_NO_DATA');
    expect(learner.status()).toMatchObject({
      state: 'idle',
      current: null,
      last: { runId: 'run-/a' },
      lastError: { code: 'LEARNING_NO_DATA', fix: 'Index it.' },
    });
  });

  it('on dispose stops the running trainers, aborts the run and drops the queue', async () => {
    const { call, result } = await running('/a');
    const queued = learner.consolidate({ project: '/b' });
    const { trainer, pid } = await sleeper();
    call.hooks.onTrainer!(trainer);
    const finished = trainer.finished.then(
      () => 'exited',
      () => 'exited',
    );
    // The fake run ends the way a real one does when its signal aborts.
    call.hooks.signal!.addEventListener('abort', () => call.reject(new NpllmError('CANCELLED', 'Learning was cancelled.')));
    await learner.dispose();
    await expect(queued).rejects.toThrow(/shutting down/);
    await expect(result).rejects.toThrow(/cancelled/);
    await expect(finished).resolves.toBe('exited');
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(calls).toHaveLength(1);
  });
});

describe('Learner.noteProject', () => {
  const profile = { stacks: [{ name: 'python' }] } as unknown as ProjectProfile;

  it('learns the project left behind in the background when it was never learned', async () => {
    const onProgress = vi.fn();
    learner = new LearningScheduler(deps, arbiter, { onSwitch: true, onProgress });
    profiles.profileOf.mockResolvedValue(profile);
    const [left, next] = [folder(), folder()];
    learner.noteProject(left);
    learner.noteProject(left);
    expect(calls).toHaveLength(0);
    learner.noteProject(next);
    const call = await waitFor(() => calls[0] ?? null, 'the background run');
    expect(call.request).toEqual({ project: left });
    // A background run's progress reaches the engine's listener (the UI's learning status).
    call.hooks.onProgress!({ task: 'learning', label: 'python: judging', fraction: 0.1, done: false });
    expect(onProgress).toHaveBeenCalledWith(expect.objectContaining({ label: 'python: judging' }));
    // Back and forth: leaving `next` queues it once; leaving `left` while it is learned, or `next` while it waits, adds nothing.
    learner.noteProject(left);
    await waitFor(() => (learner.status().queue.length > 0 ? true : null), 'the second background run to be queued');
    learner.noteProject(next);
    learner.noteProject(left);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toHaveLength(1);
    expect(learner.status()).toMatchObject({ current: { project: left }, queue: [next] });
    call.resolve(resultFor(left));
    expect((await waitFor(() => calls[1] ?? null, 'the queued background run')).request).toEqual({ project: next });
  });

  it('leaves alone a project without a confirmed profile, one learned since its last question, and everything when onSwitch is off', async () => {
    learner = new LearningScheduler(deps, arbiter, { onSwitch: true });
    const [plain, learned, other] = [folder(), folder(), folder()];
    learner.noteProject(plain);
    learner.noteProject(other);
    profiles.profileOf.mockResolvedValue(profile);
    vi.mocked(learnedSince).mockResolvedValue({ lastRun: new Date(), newInteractions: 0 });
    learner.noteProject(learned);
    learner.noteProject(other);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toHaveLength(0);

    vi.mocked(learnedSince).mockResolvedValue({ lastRun: null, newInteractions: 0 });
    const off = new LearningScheduler(deps, arbiter, { onSwitch: false });
    off.noteProject(plain);
    off.noteProject(other);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toHaveLength(0);
    await off.dispose();
  });

  it('logs instead of throwing when the project left behind is gone', async () => {
    const log = vi.fn();
    learner = new LearningScheduler(deps, arbiter, { onSwitch: true, log });
    learner.noteProject(join(tmpdir(), 'npllm-learner-no-such-folder'));
    learner.noteProject(folder());
    await waitFor(() => (log.mock.calls.length > 0 ? true : null), 'the warning');
    expect(log).toHaveBeenCalledWith('warn', expect.stringMatching(/background learning of .*npllm-learner-no-such-folder not started: .*does not exist/));
    expect(calls).toHaveLength(0);
  });
});
