/**
 * What each contract method does, in terms of the engine's capabilities. Paths from callers other
 * than the command line are held to the allowed roots (project/policy.ts) before anything reads them.
 */
import type { AskRequest, AskResponse, BehaviourStats, DatabaseCheck, Health, Settings, SettingsUpdate } from '../../../shared/contract.js';
import { NpllmError, RequestError } from '../../../shared/errors.js';
import { exportTrainingData } from '../data-collection/training-data.js';
import {
  deleteConversation,
  findConversation,
  findInteraction,
  listConversations,
  listInteractions,
  renameConversation,
} from '../data-collection/interactions.js';
import type { AdapterStore } from '../adapters/store.js';
import type { ContextService } from '../context/service.js';
import type { Database } from '../db/client.js';
import type { FeedbackService } from '../feedback/service.js';
import { learningStats } from '../metrics/learning.js';
import { projectSummaries } from '../metrics/projects.js';
import { listCatalogue, pullCatalogueModel, type ModelSettings } from '../model/pull.js';
import type { AskHooks } from '../pipeline/ask.js';
import type { LearningScheduler } from '../learning/scheduler.js';
import type { ModulatorLearner } from '../modulator/learner.js';
import type { ProjectPolicy } from '../project/policy.js';
import { resolveProjectRoot } from '../project/root.js';
import type { RagService } from '../rag/service.js';
import type { HandlerContext, Handlers } from './dispatcher.js';

/** The settings screen's methods (config/settings.ts implements them; api/ does not import config/). */
export interface SettingsAccess {
  get(): Settings;
  update(change: SettingsUpdate): Promise<Settings>;
  testDatabase(url: string | null): Promise<DatabaseCheck>;
}

const conversationNotFound = (id: string) =>
  new NpllmError('NOT_FOUND', `No conversation with id ${id}.`, { fix: 'It may have been deleted: pick one from conversations/list, or start a new chat.' });

/** What the methods need of the engine: its capabilities, as the composition root (engine.ts) built them. */
export interface EngineCapabilities {
  config: { home: string; model: ModelSettings; feedback: { acceptThreshold: number } };
  database: Pick<Database, 'db' | 'flush'>;
  projects: ProjectPolicy;
  rag: RagService;
  context: ContextService;
  feedback: FeedbackService;
  adapters: AdapterStore;
  learner: LearningScheduler;
  modulatorLearner: ModulatorLearner;
  ask(request: AskRequest, hooks: AskHooks): Promise<AskResponse>;
  health(): Promise<Health>;
  settings: SettingsAccess;
  /** Closes and reopens the engine with the saved settings, after this request is answered; false when whoever runs it cannot. */
  requestReload(): boolean;
  stats(options: { project?: string | undefined; days?: number | undefined }): Promise<BehaviourStats>;
}

export function createHandlers(engine: EngineCapabilities): Handlers {
  const db = engine.database.db;
  /** What a method acknowledges (an answer, an event, a confirmation) is on disk before the caller hears of it. */
  const durable = async <T>(result: Promise<T>): Promise<T> => {
    const value = await result;
    await engine.database.flush();
    return value;
  };
  /** The project's canonical root: any folder for the command line, an allowed one for everyone else. */
  const project = (path: string, context: HandlerContext) => (context.caller === 'cli' ? resolveProjectRoot(path) : engine.projects.assertAllowed(path));
  return {
    'chat/ask': async (request, context) => {
      if (request.project && context.caller !== 'cli') await engine.projects.assertAllowed(request.project);
      return durable(engine.ask(request, context));
    },
    'system/health': () => engine.health(),
    'system/reload': () => {
      if (!engine.requestReload()) {
        throw new NpllmError('INTERNAL', 'This engine cannot reopen itself.', { fix: 'Restart npllm to apply the saved settings.' });
      }
      return Promise.resolve({ reloading: true });
    },
    'settings/get': () => Promise.resolve(engine.settings.get()),
    'settings/update': (change) => engine.settings.update(change),
    'settings/test-database': ({ url }) => engine.settings.testDatabase(url),
    'projects/list': async () => ({ items: await projectSummaries(db, engine.learner.status()) }),
    'conversations/list': async ({ project: path, limit }) => {
      // Questions record the canonical folder; a folder gone since is listed by the name it had.
      const project = typeof path === 'string' ? await resolveProjectRoot(path).catch(() => path) : path;
      return { items: await listConversations(db, { project, limit: limit ?? 100 }) };
    },
    'conversations/get': async ({ id }) => (await findConversation(db, id)) ?? Promise.reject(conversationNotFound(id)),
    'conversations/rename': async ({ id, title }) => (await renameConversation(db, id, title)) ?? Promise.reject(conversationNotFound(id)),
    'conversations/delete': async ({ id }) => ({ deleted: await deleteConversation(db, id) }),
    'interactions/get': async ({ id }) => {
      const record = await findInteraction(db, id);
      if (!record)
        throw new NpllmError('NOT_FOUND', `No interaction with id ${id}.`, {
          fix: 'Use an interactionId returned by chat/ask or listed by interactions/list.',
        });
      return record;
    },
    'interactions/list': async ({ limit, project: path }) => ({ items: await listInteractions(db, { limit: limit ?? 50, project: path }) }),
    'rag/index': async ({ path }, context) => engine.rag.index(await project(path, context), context),
    'rag/status': async ({ path }, context) => engine.rag.status(await project(path, context)),
    'context/detect': async ({ path }, context) => engine.context.detect(await project(path, context)),
    'context/confirm': async ({ path, stacks }, context) => durable(engine.context.confirm(await project(path, context), stacks)),
    'context/get': async ({ path }, context) => ({ profile: await engine.context.get(await project(path, context)) }),
    'feedback/record': (event) => durable(engine.feedback.record(event)),
    'stats/behaviour': ({ project: path, days }) => engine.stats({ project: path, days }),
    'adapters/list': async ({ name }) => ({ items: await engine.adapters.list(name) }),
    'adapters/promote': ({ name, version, reason }) => durable(engine.adapters.promote(name, version, reason)),
    'adapters/rollback': ({ name, version, reason }) => durable(engine.adapters.rollback(name, version, reason)),
    'learning/consolidate': async (request, context) => {
      await project(request.project, context);
      return engine.learner.consolidate(request, { onProgress: context.onProgress, signal: context.signal });
    },
    'learning/status': () => Promise.resolve(engine.learner.status()),
    'stats/learning': ({ adapter, runs }) => learningStats(db, { adapter, runs }),
    'modulator/status': () => engine.modulatorLearner.status(),
    'modulator/learn': async (request, context) => {
      if (request.project) request = { ...request, project: await project(request.project, context) };
      return engine.modulatorLearner.learn(request, { onProgress: context.onProgress, signal: context.signal });
    },
    'models/list': async () => ({ items: await listCatalogue(engine.config.model) }),
    'models/pull': ({ id }, context) => pullCatalogueModel(id, engine.config.model, context),
    'data/export': async ({ project: path, out }, context) => {
      // A path to write to is the user's to choose, at the keyboard; over the API it would let a
      // caller overwrite any file the server can write.
      if (out !== undefined && context.caller !== 'cli') {
        throw new RequestError('REQUEST_INVALID', 'Only the command line may choose where the export is written.', {
          fix: 'Leave out "out": the export is written under the data folder\'s exports/ and its path returned.',
        });
      }
      return exportTrainingData(db, {
        project: await project(path, context),
        acceptThreshold: engine.config.feedback.acceptThreshold,
        home: engine.config.home,
        out,
      });
    },
  };
}
