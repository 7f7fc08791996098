/**
 * bench:learning's serving phase: time to first token while a consolidation trains (paused by the
 * learner, and a trainer nobody pauses), and the total memory of serving + training + embedder +
 * database meanwhile.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { TrainerProcess, trainerBinary } from '../electron/engine/learning/native-trainer.js';
import type { Projects } from './learning-corpora.js';
import { median, progress, round } from './measure.js';

export interface ServingRun {
  /** The engine's configuration for this home, with learning and model overrides. */
  config: (learning: Partial<Config['learning']>, model: Partial<Config['model']>) => Config;
  /** Readies the home before the engine opens (the shared score cache). */
  prepareHome: () => void;
  asks: number;
  threads: number;
}

/** Sum of this process's and every live trainer's resident memory, sampled while serving and training overlap. */
function totalMemoryMeter(): { track: (pid: number | undefined) => void; peakMb: () => { total: number; engine: number; trainer: number } } {
  const pids = new Set<number>();
  let peak = { total: 0, engine: 0, trainer: 0 };
  const rssKb = (pid: number | 'self') => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      pids.delete(pid as number);
      return 0;
    }
  };
  setInterval(() => {
    const engine = rssKb('self');
    const trainer = [...pids].reduce((sum, pid) => sum + rssKb(pid), 0);
    if (engine + trainer > peak.total * 1024) peak = { total: (engine + trainer) / 1024, engine: engine / 1024, trainer: trainer / 1024 };
  }, 200).unref();
  return { track: (pid) => pid !== undefined && pids.add(pid), peakMb: () => peak };
}

async function timeToFirstToken(engine: Engine, project: string, tag: string): Promise<number> {
  const answer = await engine.ask({ question: `How do I add a field to a model? (${tag})`, project, noCache: true, maxTokens: 4, replyTo: null });
  progress(`  ${tag}: ttft ${round(answer.timings.ttftMs)} ms, retrieval ${answer.retrieval.used ? 'used' : 'not used'}`);
  return answer.timings.ttftMs;
}

/**
 * Idle, paused and unpaused answers take turns in rounds, so a slow spell of the shared machine
 * lands on every configuration alike. The memory meter runs throughout: the serving model, the
 * embedder (a worker thread) and PGlite live in this process, the trainer in its child.
 */
export async function servingWhileTraining(
  home: string,
  projects: Projects,
  setup: ServingRun,
): Promise<{ idle: number; paused: number; unpaused: number; memory: { total: number; engine: number; trainer: number } }> {
  setup.prepareHome();
  const engine = await Engine.open(setup.config({ maxSteps: 100_000, maxTrainSeconds: null, transferProjects: 0 }, { threads: 1 }), { prepareModel: true });
  const meter = totalMemoryMeter();
  try {
    for (let index = 0; index < 2; index++) await timeToFirstToken(engine, projects.a, `warm-up ${index}`);
    const idle: number[] = [];
    const paused: number[] = [];
    const unpaused: number[] = [];
    const data = join(home, 'unpaused.txt');
    writeFileSync(data, readFileSync(join(projects.b, 'lib', 'rules', readdirSync(join(projects.b, 'lib', 'rules'))[0]!), 'utf8').repeat(8));
    for (let round_ = 0; round_ < setup.asks; round_++) {
      idle.push(await timeToFirstToken(engine, projects.a, `idle r${round_}`));

      // A consolidation the learner manages: it stops the trainer while each answer is generated.
      const abort = new AbortController();
      let training!: () => void;
      const started = new Promise<void>((resolve) => (training = resolve));
      const run = engine.learner
        .consolidate(
          { project: projects.b, adapter: `ttft${round_}` },
          {
            signal: abort.signal,
            onTrainer: (trainer) => {
              meter.track(trainer.pid);
              return () => undefined;
            },
            onProgress: (report) => / step \d+\//.test(report.label) && training(),
          },
        )
        .catch(() => undefined);
      await started;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      paused.push(await timeToFirstToken(engine, projects.a, `paused r${round_}`));
      abort.abort();
      await run;

      // The same training load without the learner: nothing pauses it.
      const model = (await engine.model.identify()).path;
      const trainer = new TrainerProcess(
        trainerBinary(),
        [
          'train',
          '--model',
          model,
          '--data',
          data,
          '--out',
          join(home, 'unpaused.gguf'),
          '--steps',
          '1000',
          '--ctx',
          '128',
          '--threads',
          String(setup.threads),
          '--lr',
          '1e-4',
        ],
        {},
      );
      meter.track(trainer.pid);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      unpaused.push(await timeToFirstToken(engine, projects.a, `unpaused r${round_}`));
      trainer.stop();
      await trainer.finished.catch(() => undefined);
    }
    return { idle: median(idle), paused: median(paused), unpaused: median(unpaused), memory: meter.peakMb() };
  } finally {
    await engine.dispose();
  }
}

/** Peak resident memory of every trainer process a consolidation starts (VmHWM, read while it lives). */
export function rssWatcher(): { onTrainer: (process: TrainerProcess) => () => void; peakMb: () => number } {
  let peakKb = 0;
  return {
    onTrainer: (trainer) => {
      const read = () => {
        if (!trainer.pid) return;
        readFile(`/proc/${trainer.pid}/status`, 'utf8')
          .then((status) => {
            peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
          })
          .catch(() => undefined);
      };
      const timer = setInterval(read, 250);
      return () => clearInterval(timer);
    },
    peakMb: () => peakKb / 1024,
  };
}
