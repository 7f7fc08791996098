/**
 * Who gets the CPU: answers first. On a 2-core machine a trainer sharing the cores with a
 * generation slows the answer several times over (learning/README.md), so while any question is
 * being answered every registered background worker is paused (a trainer process: SIGSTOP), and
 * resumed (SIGCONT) when the last answer ends.
 */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export class CpuArbiter {
  private answers = 0;
  private readonly workers = new Set<Pausable>();

  /** True while at least one answer is being generated. */
  get answering(): boolean {
    return this.answers > 0;
  }

  /** Runs an answer with every worker paused; they resume when the last answer ends. */
  async whileAnswering<T>(work: () => Promise<T>): Promise<T> {
    if (this.answers++ === 0) for (const worker of this.workers) worker.pause();
    try {
      return await work();
    } finally {
      if (--this.answers === 0) for (const worker of this.workers) worker.resume();
    }
  }

  /** A background worker that yields to answers (paused at once if one is running); returns its release. */
  register(worker: Pausable): () => void {
    this.workers.add(worker);
    if (this.answering) worker.pause();
    return () => {
      this.workers.delete(worker);
    };
  }
}
