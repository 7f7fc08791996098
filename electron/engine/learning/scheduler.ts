/**
 * The learning scheduler (learning/README.md): consolidations run one at a time off the critical
 * path. The heavy work happens in npllm-train child processes, registered with the CPU arbiter so
 * that they stop while any question is answered. When the user moves from one project to another,
 * the project left behind is learned in the background if something new happened there since its
 * last run.
 */
import type { LearnerStatus, LearnResult, LearnRequest, Progress } from '../../../shared/contract.js';
import { toNpllmError, type SerializedError } from '../../../shared/errors.js';
import type { LogLevel } from '../base/log.js';
import { resolveProjectRoot } from '../project/root.js';
import { consolidate, type ConsolidationDeps, type ConsolidationHooks } from './consolidate.js';
import type { CpuArbiter } from './cpu-arbiter.js';
import type { TrainerProcess } from './native-trainer.js';
import { learnedSince } from './queries.js';

export interface SchedulerOptions {
  /** Learn the project the user leaves (config learning.onSwitch). */
  onSwitch: boolean;
  log?: (level: LogLevel, message: string) => void;
  /** Every progress report of a background run (the UI's learning status). */
  onProgress?: (progress: Progress) => void;
  /**
   * After each completed consolidation (the modulator refits to the new adapter version). A
   * requested run waits for it and passes its caller's progress and signal; a background run does not.
   */
  onLearned?: (
    result: LearnResult,
    project: string,
    hooks: { signal?: AbortSignal | undefined; onProgress?: ((progress: Progress) => void) | undefined },
  ) => Promise<void> | void;
}

interface Job {
  request: LearnRequest;
  hooks: ConsolidationHooks;
  resolve: (result: LearnResult) => void;
  reject: (error: unknown) => void;
  background: boolean;
}

export class LearningScheduler {
  private readonly trainers = new Set<TrainerProcess>();
  private readonly queue: Job[] = [];
  private current: { job: Job; progress: Progress | null; runId: string | null } | null = null;
  private last: LearnResult | null = null;
  private lastError: SerializedError | null = null;
  private lastProject: string | null = null;
  private readonly stopping = new AbortController();
  private draining: Promise<void> | null = null;

  constructor(
    private readonly deps: ConsolidationDeps,
    private readonly arbiter: CpuArbiter,
    private readonly options: SchedulerOptions,
  ) {}

  /** A consolidation asked for by the user (CLI, API): queued behind the one running, if any. */
  consolidate(request: LearnRequest, hooks: ConsolidationHooks = {}): Promise<LearnResult> {
    return this.enqueue(request, hooks, false);
  }

  /**
   * The project a question was asked in. Leaving a project with a confirmed context, learned
   * never or before its latest question, queues it in the background.
   */
  noteProject(project: string | null): void {
    const previous = this.lastProject;
    this.lastProject = project;
    if (!this.options.onSwitch || !previous || previous === project) return;
    void this.learnInBackground(previous).catch((error: unknown) =>
      this.options.log?.('warn', `background learning of ${previous} not started: ${toNpllmError(error).message}`),
    );
  }

  status(): LearnerStatus {
    const current = this.current;
    return {
      state: !current ? 'idle' : this.arbiter.answering ? 'paused' : 'running',
      current: current
        ? { project: current.job.request.project, adapter: current.job.request.adapter ?? null, runId: current.runId, progress: current.progress }
        : null,
      queue: this.queue.map((job) => job.request.project),
      last: this.last,
      lastError: this.lastError,
    };
  }

  /** Stops the run in progress at its next step boundary and drops the queue. */
  async dispose(): Promise<void> {
    this.stopping.abort();
    for (const job of this.queue.splice(0)) job.reject(toNpllmError(new Error('The engine is shutting down.')));
    for (const trainer of this.trainers) trainer.stop();
    await this.draining?.catch(() => undefined);
  }

  private async learnInBackground(project: string): Promise<void> {
    // The folder may be gone by the time the user moves on: that is worth a warning, not a run.
    const root = await resolveProjectRoot(project);
    if (this.queue.some((job) => job.request.project === root) || this.current?.job.request.project === root) return;
    if (!(await this.deps.profiles.profileOf(root))) return;
    const { lastRun, newInteractions } = await learnedSince(this.deps.db, root);
    if (lastRun && newInteractions === 0) return;
    this.options.log?.('info', `learning ${root} in the background (${lastRun ? `${newInteractions} new question(s) since the last run` : 'never learned'})`);
    this.enqueue({ project: root }, {}, true).catch(() => undefined);
  }

  private enqueue(request: LearnRequest, hooks: ConsolidationHooks, background: boolean): Promise<LearnResult> {
    return new Promise<LearnResult>((resolve, reject) => {
      this.queue.push({ request, hooks, resolve, reject, background });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      const running = { job, progress: null as Progress | null, runId: null as string | null };
      this.current = running;
      const signal = job.hooks.signal ? AbortSignal.any([job.hooks.signal, this.stopping.signal]) : this.stopping.signal;
      try {
        const result = await consolidate(this.deps, job.request, {
          signal,
          onProgress: (progress) => {
            running.progress = progress;
            job.hooks.onProgress?.(progress);
            if (job.background) this.options.onProgress?.(progress);
          },
          onTrainer: (trainer) => {
            this.trainers.add(trainer);
            // A trainer started while a question is answered waits for it like the others.
            const releaseArbiter = this.arbiter.register(trainer);
            const releaseCaller = job.hooks.onTrainer?.(trainer);
            return () => {
              this.trainers.delete(trainer);
              releaseArbiter();
              releaseCaller?.();
            };
          },
        });
        this.last = result;
        this.lastError = null;
        this.options.log?.('info', `learned ${job.request.project}: ${result.adapter} v${result.version} ${result.reason}`);
        const refit = this.options.onLearned?.(result, job.request.project, job.background ? {} : { signal, onProgress: job.hooks.onProgress });
        // Whoever asked for the run sees the modulator refit to it before the answer (npllm learn, Learn now).
        if (!job.background) await refit;
        job.resolve(result);
      } catch (error) {
        const failure = toNpllmError(error);
        this.lastError = failure.toJSON();
        if (job.background) this.options.log?.('warn', `background learning of ${job.request.project} failed: ${failure.message}`);
        job.reject(failure);
      } finally {
        this.current = null;
      }
    }
  }
}
