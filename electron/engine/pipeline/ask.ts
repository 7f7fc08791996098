/**
 * The synchronous critical path of a question: validate → identify the model → response cache →
 * record the interaction → generate (streaming) → record the answer → acknowledge. Nothing is
 * acknowledged before it is in the database.
 */
import type { AdapterUse, AskRequest, AskResponse, ChatMessage, Progress, Timings } from '../../../shared/contract.js';
import { adapterUses, type AdapterPlan, type AdapterPlanner } from '../adapters/serving.js';
import { NpllmError, toNpllmError } from '../../../shared/errors.js';
import { checkQuestion, normalizeQuestion } from '../../../shared/text.js';
import type { ModelConfig } from '../model/config.js';
import type { RagConfig } from '../rag/config.js';
import type { CacheConfig, QueryConfig } from './config.js';
import type { Database } from '../db/client.js';
import { unreachable } from '../db/client.js';
import { newInteractionId } from '../data-collection/ids.js';
import { completeInteraction, endInteractionWithError, insertInteraction, type NewInteraction } from '../data-collection/interactions.js';
import type { FeedbackService } from '../feedback/service.js';
import type { LocalModel, ModelIdentity } from '../model/local-model.js';
import { resolveProjectRoot } from '../project/root.js';
import type { Retrieval, Retriever } from '../rag/retriever.js';
import type { TokenCounter } from '../rag/types.js';
import { responseCacheKey } from './cache-key.js';
import { countCacheHit, findCachedAnswer, storeCachedAnswer } from './queries.js';

export interface AskHooks {
  signal?: AbortSignal | undefined;
  onToken?: ((text: string) => void) | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
  /** The question's project folder, once resolved (the learner tracks which project the user is in). */
  onProject?: ((root: string) => void) | undefined;
}

/** What the critical path reads of the configuration. */
export interface AskSettings {
  model: Pick<ModelConfig, 'maxTokens' | 'systemPrompt' | 'temperature' | 'contextSize'>;
  rag: Pick<RagConfig, 'contextTokens'>;
  cache: CacheConfig;
  query: QueryConfig;
}

/** A question once `prepare` has decided everything about it. */
interface Question {
  started: number;
  history: ChatMessage[];
  maxTokens: number;
  identity: ModelIdentity;
  plan: AdapterPlan;
  adapters: AdapterUse[];
  retrieval: Retrieval;
  /** The interaction as it will be recorded, less what the answer decides. */
  record: Omit<NewInteraction, 'createdAt' | 'status' | 'cached'> & { id: string; source: string; question: string; cacheKey: string; project: string | null; conversationId: string | null };
}

export class AskPipeline {
  constructor(
    private readonly database: Database,
    private readonly model: LocalModel,
    private readonly config: AskSettings,
    private readonly retriever: Retriever,
    private readonly feedback: FeedbackService,
    private readonly adapterPlanner?: AdapterPlanner,
  ) {}

  /** The stages of the critical path, in order (pipeline/README.md describes each). */
  async ask(request: AskRequest, hooks: AskHooks = {}): Promise<AskResponse> {
    const question = await this.prepare(request, hooks);
    await this.noteReaction(request, question);
    return (await this.answerFromCache(request, question, hooks)) ?? (await this.generate(question, hooks));
  }

  /**
   * Everything decided before an answer exists: the question checked, its project named once, the
   * model identified (never loaded), the adapters planned, project code retrieved, the cache key.
   */
  private async prepare(request: AskRequest, hooks: AskHooks): Promise<Question> {
    const started = performance.now();
    checkQuestion(request.question, this.config.query.maxChars);
    const history = request.history ?? [];
    const maxTokens = request.maxTokens ?? this.config.model.maxTokens;
    // One spelling per folder (symlinks, trailing slashes), so feedback, metrics and training data
    // of a project are never split across two names.
    const project = request.project ? await resolveProjectRoot(request.project) : null;
    if (project) hooks.onProject?.(project);
    const identity = await this.model.identify(hooks.onProgress);
    const plan: AdapterPlan = this.adapterPlanner
      ? await this.guard(() => this.adapterPlanner!.plan({ project, channel: request.adapterChannel ?? 'stable' }, identity))
      : { apply: [], skipped: [] };
    const adapters = adapterUses(plan.apply);
    const retrieval = await this.retrieve(request.question, project, history, maxTokens);
    const cacheKey = responseCacheKey({
      retrieved: retrieval.fingerprint,
      question: request.question,
      history,
      project,
      modelFingerprint: identity.fingerprint,
      adapters,
      systemPrompt: this.config.model.systemPrompt,
      maxTokens,
      temperature: this.config.model.temperature,
    });
    const record = {
      id: newInteractionId(),
      source: request.source ?? 'api',
      question: request.question,
      normalizedQuestion: normalizeQuestion(request.question),
      history,
      project,
      conversationId: request.conversationId ?? null,
      cacheKey,
      model: identity.name,
      modelFingerprint: identity.fingerprint,
      adapters,
      retrieval: retrieval.report,
    };
    return { started, history, maxTokens, identity, plan, adapters, retrieval, record };
  }

  /**
   * The message is also the user's reaction to their previous answer (or a regeneration of it);
   * reading it before answering keeps a crash mid-generation from losing the signal.
   */
  private async noteReaction(request: AskRequest, { record }: Question): Promise<void> {
    await this.guard(async () => {
      if (request.regenerates) await this.feedback.noteRegeneration({ interactionId: record.id, regenerates: request.regenerates });
      else if (request.replyTo !== null) {
        await this.feedback.noteFollowUp({ interactionId: record.id, question: request.question, source: record.source, project: record.project, replyTo: request.replyTo });
      }
    });
  }

  /** The same question in the same context, answered before: recorded as its own interaction, the model untouched. */
  private async answerFromCache(request: AskRequest, question: Question, hooks: AskHooks): Promise<AskResponse | null> {
    if (!this.config.cache.enabled || request.noCache) return null;
    const db = this.database.db;
    const { record } = question;
    const hit = await this.guard(() => findCachedAnswer(db, record.cacheKey));
    if (!hit) return null;
    const elapsed = round(performance.now() - question.started);
    const timings: Timings = { ttftMs: elapsed, totalMs: elapsed, tokens: hit.tokens, promptTokens: 0, loadMs: 0 };
    const createdAt = new Date();
    await this.guard(() => insertInteraction(db, { ...record, createdAt, finishedAt: createdAt, answer: hit.answer, status: 'completed', cached: true, cachedFrom: hit.interactionId, timings }));
    await this.guard(() => countCacheHit(db, record.cacheKey));
    hooks.onToken?.(hit.answer);
    return {
      interactionId: record.id,
      answer: hit.answer,
      cached: true,
      cachedFrom: hit.interactionId,
      model: question.identity.name,
      adapters: question.adapters,
      timings,
      // maxTokens is part of the key, so an answer that filled it was cut there when first generated.
      finishReason: hit.tokens >= question.maxTokens ? 'length' : 'stop',
      retrieval: question.retrieval.report,
      conversationId: record.conversationId,
      createdAt: createdAt.toISOString(),
    };
  }

  /** The model answers: the question is recorded first, the answer (or what came of it) before it is acknowledged. */
  private async generate(question: Question, hooks: AskHooks): Promise<AskResponse> {
    const db = this.database.db;
    const { record, retrieval } = question;
    const createdAt = new Date();
    await this.guard(() => insertInteraction(db, { ...record, createdAt, status: 'pending', cached: false }));

    let partial = '';
    let generation;
    try {
      generation = await this.model.generate({
        messages: [...question.history, ...(retrieval.contextMessage ? [retrieval.contextMessage] : []), { role: 'user', content: record.question }],
        maxTokens: question.maxTokens,
        adapters: question.plan.apply,
        signal: hooks.signal,
        onProgress: hooks.onProgress,
        onToken: (text) => {
          partial += text;
          hooks.onToken?.(text);
        },
      });
    } catch (error) {
      const failure = toNpllmError(error);
      const elapsed = performance.now() - question.started;
      await this.guard(() =>
        endInteractionWithError(db, record.id, failure.code === 'CANCELLED' ? 'cancelled' : 'failed', failure.toJSON(), partial, { ttftMs: elapsed, totalMs: elapsed, tokens: 0, promptTokens: 0, loadMs: 0 }),
      );
      throw failure;
    }

    const timings: Timings = {
      ttftMs: round(generation.ttftMs),
      totalMs: round(performance.now() - question.started),
      tokens: generation.tokens,
      promptTokens: generation.promptTokens,
      evaluatedPromptTokens: generation.evaluatedPromptTokens,
      loadMs: round(generation.loadMs),
    };
    // llama.cpp may still refuse an adapter the checks passed: the answer then reports what really
    // applied, and is not cached under a key that names adapters it did not use.
    const asPlanned = sameUses(generation.adapters, question.adapters);
    await this.guard(() =>
      db.transaction(async (tx) => {
        await completeInteraction(tx, record.id, generation.text, timings, asPlanned ? undefined : generation.adapters);
        // A looping answer is not worth repeating: asking again gets a fresh attempt.
        if (this.config.cache.enabled && asPlanned && generation.text.trim() && generation.finishReason !== 'repetition') {
          await storeCachedAnswer(tx, { cacheKey: record.cacheKey, interactionId: record.id, answer: generation.text, tokens: generation.tokens, modelFingerprint: question.identity.fingerprint });
        }
      }),
    );
    return {
      interactionId: record.id,
      answer: generation.text,
      cached: false,
      cachedFrom: null,
      model: question.identity.name,
      adapters: generation.adapters,
      timings,
      finishReason: generation.finishReason,
      retrieval: retrieval.report,
      conversationId: record.conversationId,
      createdAt: createdAt.toISOString(),
    };
  }

  /**
   * Retrieved code may use what the context window leaves after the system prompt, the
   * conversation, the question and the answer, counted in the model's own tokens, and at most
   * `rag.contextTokens`: every retrieved token is evaluated before the first answer token, so the
   * budget is what keeps time to first token usable on a small CPU (BENCHMARKS.md).
   */
  private retrieve(question: string, root: string | null, history: readonly ChatMessage[], maxTokens: number): Promise<Retrieval> {
    // The chat template wraps every message in a few tokens of its own.
    const perMessage = 8;
    const budget = (count: TokenCounter) => {
      const texts = [this.config.model.systemPrompt, ...history.map((message) => message.content), question];
      const reserved = maxTokens + texts.reduce((total, text) => total + count(text) + perMessage, 0);
      return Math.min(this.config.rag.contextTokens, Math.max(0, this.config.model.contextSize - reserved));
    };
    return this.guard(() => this.retriever.prepare({ question, history, root, tokens: () => this.model.tokenCounter(), budget }));
  }

  /** Database failures mid-request become one actionable error instead of a driver stack trace. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof NpllmError) throw error;
      throw unreachable(this.database.location, error);
    }
  }
}

function sameUses(a: readonly AdapterUse[], b: readonly AdapterUse[]): boolean {
  return a.length === b.length && a.every((use, index) => use.name === b[index]!.name && use.version === b[index]!.version && use.scale === b[index]!.scale);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
