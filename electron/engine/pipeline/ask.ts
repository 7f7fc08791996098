/**
 * The synchronous critical path of a question: validate → identify the model → response cache →
 * record the interaction → generate (streaming) → record the answer → acknowledge. Nothing is
 * acknowledged before it is in the database.
 */
import type { AdapterUse, AskRequest, AskResponse, ChatMessage, Progress, Timings } from '../../../shared/contract.js';
import { adapterUses, type AdapterPlanner } from '../adapters/serving.js';
import { NpllmError, RequestError, toNpllmError } from '../../../shared/errors.js';
import { checkQuestion, normalizeQuestion } from '../../../shared/text.js';
import type { ModelConfig } from '../model/config.js';
import type { RagConfig } from '../rag/config.js';
import type { CacheConfig, QueryConfig } from './config.js';
import type { Database } from '../db/client.js';
import { databaseFailure } from '../db/client.js';
import { newInteractionId } from '../data-collection/ids.js';
import { completeInteraction, endInteractionWithError, insertInteraction, savePartialAnswer, type NewInteraction } from '../data-collection/interactions.js';
import type { FeedbackService } from '../feedback/service.js';
import type { LocalModel, ModelIdentity, ServedAdapter } from '../model/local-model.js';
import type { Modulator, ModulatorPlan } from '../modulator/modulator.js';
import { resolveProjectRoot } from '../project/root.js';
import { notUsed, type Retrieval, type RetrievalProbe, type Retriever } from '../rag/retriever.js';
import type { TokenCounter } from '../rag/types.js';
import { responseCacheKey } from './cache-key.js';
import { countCacheHit, findCachedAnswer, storeCachedAnswer, type CachedAnswer } from './queries.js';
import { thisWorker } from './recover.js';

/** The chat template wraps every message in a few tokens of its own. */
const perMessageTokens = 8;
/** The least room a question must leave for its answer (or all of maxTokens, when that is smaller). */
const minimumAnswerTokens = 32;

/** Streamed text is written to the interaction every this many chunks (tokens), so a killed process loses at most that much. */
export const partialSaveChunks = 16;

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
  probe: RetrievalProbe;
  /** The modulator's decision: which adapters speak and how loud, whether to retrieve. */
  plan: ModulatorPlan;
  apply: ServedAdapter[];
  adapters: AdapterUse[];
  retrieval: Retrieval;
  /** The interaction as it will be recorded, less what the answer decides. */
  record: Omit<NewInteraction, 'createdAt' | 'status' | 'cached'> & {
    id: string;
    source: string;
    question: string;
    cacheKey: string;
    project: string | null;
    conversationId: string | null;
    clientId: string | null;
  };
}

export class AskPipeline {
  constructor(
    private readonly database: Database,
    private readonly model: LocalModel,
    private readonly config: AskSettings,
    private readonly retriever: Retriever,
    private readonly feedback: FeedbackService,
    private readonly modulator: Modulator,
    private readonly adapterPlanner?: AdapterPlanner,
  ) {}

  /** The stages of the critical path, in order (pipeline/README.md describes each). */
  async ask(request: AskRequest, hooks: AskHooks = {}): Promise<AskResponse> {
    const question = await this.prepare(request, hooks);
    const hit = await this.findInCache(request, question);
    // A question refused as too long is not anyone's reaction: checked before the reaction is read.
    if (!hit) await this.checkFits(question.record.question, question.maxTokens);
    await this.noteReaction(request, question);
    return hit ? this.answerFromCache(question, hit, hooks) : this.generate(await this.explore(question), hooks);
  }

  private async findInCache(request: AskRequest, question: Question): Promise<CachedAnswer | null> {
    if (!this.config.cache.enabled || request.noCache) return null;
    return this.guard(() => findCachedAnswer(this.database.db, question.record.cacheKey));
  }

  /**
   * Everything decided before an answer exists: the question checked, its project named once, the
   * model identified (never loaded), the retrieval probe, the modulator's plan (adapters and their
   * scales, retrieval and its budget), project code retrieved if planned, the cache key.
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
    const { candidates } = this.adapterPlanner
      ? await this.guard(() => this.adapterPlanner!.candidates({ project, channel: request.adapterChannel ?? 'stable' }, identity))
      : { candidates: [] };
    const probe = await this.guard(() =>
      this.retriever.probe({ question: request.question, history, root: project, embedWithoutProject: candidates.length > 0 }),
    );
    const plan = await this.modulator.plan({
      question: request.question,
      history,
      regenerates: request.regenerates !== undefined,
      project,
      embedding: probe.embedding,
      probe,
      ruleRetrieve: probe.rule.retrieve,
      ruleReasons: probe.rule.reasons,
      candidates,
    });
    const record = {
      id: newInteractionId(),
      source: request.source ?? 'api',
      conversationId: request.conversationId ?? null,
      clientId: request.clientId ?? null,
      question: request.question,
      normalizedQuestion: normalizeQuestion(request.question),
      history,
      project,
      model: identity.name,
      modelFingerprint: identity.fingerprint,
    };
    return this.settle({ started, history, maxTokens, identity, probe }, record, plan);
  }

  /** The plan made concrete: the adapters applied, the code retrieved, the cache key over both. */
  private async settle(
    question: Pick<Question, 'started' | 'history' | 'maxTokens' | 'identity' | 'probe'>,
    record: Omit<Question['record'], 'cacheKey' | 'adapters' | 'retrieval'>,
    plan: ModulatorPlan,
    previous?: Question,
  ): Promise<Question> {
    const apply = plan.adapters.filter((adapter) => adapter.scale > 0).map(({ name, version, scale, path }) => ({ name, version, scale, path }));
    const adapters = adapterUses(apply);
    const reused = previous && previous.plan.retrieve === plan.retrieve && previous.plan.budgetFraction === plan.budgetFraction ? previous.retrieval : null;
    const retrieval =
      reused ??
      (plan.retrieve
        ? await this.retrieve(record.question, question.probe, question.history, question.maxTokens, plan)
        : notUsed(retrievalReasons(plan, question.probe)));
    const cacheKey = responseCacheKey({
      retrieved: retrieval.fingerprint,
      question: record.question,
      history: question.history,
      project: record.project,
      modelFingerprint: question.identity.fingerprint,
      adapters,
      systemPrompt: this.config.model.systemPrompt,
      maxTokens: question.maxTokens,
      temperature: this.config.model.temperature,
    });
    return { ...question, plan, apply, adapters, retrieval, record: { ...record, cacheKey, adapters, retrieval: retrieval.report } };
  }

  /** Uncached answers only: the modulator may try one step away from its plan (bounded; the cache never explores). */
  private async explore(question: Question): Promise<Question> {
    const plan = this.modulator.explore(question.plan);
    if (!plan.explored) return { ...question, plan };
    const { cacheKey: _key, adapters: _adapters, retrieval: _retrieval, ...record } = question.record;
    return this.settle(question, record, plan, question);
  }

  /**
   * The message is also the user's reaction to their previous answer (or a regeneration of it);
   * reading it before answering keeps a crash mid-generation from losing the signal.
   */
  private async noteReaction(request: AskRequest, { record }: Question): Promise<void> {
    await this.guard(async () => {
      if (request.regenerates) await this.feedback.noteRegeneration({ interactionId: record.id, regenerates: request.regenerates });
      else if (request.replyTo !== null) {
        await this.feedback.noteFollowUp({
          interactionId: record.id,
          question: request.question,
          history: request.history,
          conversationId: record.conversationId,
          clientId: record.clientId,
          replyTo: request.replyTo,
        });
      }
    });
  }

  /** The same question in the same context, answered before: recorded as its own interaction, the model untouched. */
  private async answerFromCache(question: Question, hit: CachedAnswer, hooks: AskHooks): Promise<AskResponse> {
    const db = this.database.db;
    const { record } = question;
    const elapsed = round(performance.now() - question.started);
    const timings: Timings = { ttftMs: elapsed, totalMs: elapsed, tokens: hit.tokens, promptTokens: 0, loadMs: 0 };
    const createdAt = new Date();
    await this.guard(() =>
      insertInteraction(db, {
        ...record,
        createdAt,
        finishedAt: createdAt,
        answer: hit.answer,
        status: 'completed',
        cached: true,
        cachedFrom: hit.interactionId,
        timings,
      }),
    );
    await this.modulator.record(record.id, question.plan, true);
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
      modulator: this.modulator.report({ ...question.plan, propensity: 1 }),
      conversationId: record.conversationId,
      createdAt: createdAt.toISOString(),
    };
  }

  /** The model answers: the question is recorded first, the answer (or what came of it) before it is acknowledged. */
  private async generate(question: Question, hooks: AskHooks): Promise<AskResponse> {
    const db = this.database.db;
    const { record, retrieval } = question;
    const createdAt = new Date();
    await this.guard(() => insertInteraction(db, { ...record, createdAt, status: 'pending', cached: false, worker: thisWorker }));
    await this.modulator.record(record.id, question.plan, false);

    let partial = '';
    let chunks = 0;
    // One write at a time; chunks arriving meanwhile are in the next one. A failed write only
    // costs the crash-safety of this stretch of the answer, never the answer itself.
    let saving: Promise<void> = Promise.resolve();
    let writing = false;
    const savePartial = () => {
      if (writing) return;
      writing = true;
      saving = savePartialAnswer(db, record.id, partial)
        .catch(() => undefined)
        .finally(() => (writing = false));
    };
    let generation;
    try {
      generation = await this.model.generate({
        messages: [...question.history, ...(retrieval.contextMessage ? [retrieval.contextMessage] : []), { role: 'user', content: record.question }],
        maxTokens: question.maxTokens,
        adapters: question.apply,
        signal: hooks.signal,
        onProgress: hooks.onProgress,
        onToken: (text) => {
          partial += text;
          if (++chunks % partialSaveChunks === 0) savePartial();
          hooks.onToken?.(text);
        },
      });
    } catch (error) {
      await saving;
      const failure = toNpllmError(error);
      const elapsed = performance.now() - question.started;
      await this.guard(() =>
        endInteractionWithError(db, record.id, failure.code === 'CANCELLED' ? 'cancelled' : 'failed', failure.toJSON(), partial, {
          ttftMs: elapsed,
          totalMs: elapsed,
          tokens: 0,
          promptTokens: 0,
          loadMs: 0,
        }),
      );
      throw failure;
    }

    await saving;
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
          await storeCachedAnswer(tx, {
            cacheKey: record.cacheKey,
            interactionId: record.id,
            answer: generation.text,
            tokens: generation.tokens,
            modelFingerprint: question.identity.fingerprint,
          });
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
      modulator: this.modulator.report(question.plan),
      conversationId: record.conversationId,
      createdAt: createdAt.toISOString(),
    };
  }

  /**
   * A question the context window cannot hold with room for an answer would be cut by llama.cpp
   * without a word (the start of what the user asked, silently gone), so it is refused as too
   * long, counted in the model's own tokens. Earlier turns of a conversation may still be dropped
   * to make room: the question itself never is.
   */
  private async checkFits(questionText: string, maxTokens: number): Promise<void> {
    const count = await this.model.tokenCounter();
    const questionTokens = count(questionText);
    const needed = count(this.config.model.systemPrompt) + questionTokens + 2 * perMessageTokens + Math.min(maxTokens, minimumAnswerTokens);
    const { contextSize } = this.config.model;
    if (needed <= contextSize) return;
    throw new RequestError(
      'QUERY_TOO_LONG',
      `The question is ${questionTokens} tokens long: with the system prompt and room for an answer it needs ${needed} tokens, more than the model's context of ${contextSize}.`,
      {
        fix: 'Ask about a smaller piece of code (set a project with --project so npllm retrieves what it needs), or raise model.contextSize (--context-size).',
        details: { tokens: questionTokens, needed, contextSize },
      },
    );
  }

  /**
   * Retrieved code may use what the context window leaves after the system prompt, the
   * conversation, the question and the answer, counted in the model's own tokens, and at most the
   * modulator's share of `rag.contextTokens`: every retrieved token is evaluated before the first
   * answer token, so the budget is what keeps time to first token usable on a small CPU.
   */
  private retrieve(question: string, probe: RetrievalProbe, history: readonly ChatMessage[], maxTokens: number, plan: ModulatorPlan): Promise<Retrieval> {
    const budget = (count: TokenCounter) => {
      const texts = [this.config.model.systemPrompt, ...history.map((message) => message.content), question];
      const reserved = maxTokens + texts.reduce((total, text) => total + count(text) + perMessageTokens, 0);
      return Math.min(Math.floor(this.config.rag.contextTokens * plan.budgetFraction), Math.max(0, this.config.model.contextSize - reserved));
    };
    return this.guard(() => this.retriever.fetch(probe, { question, tokens: () => this.model.tokenCounter(), budget }, retrievalReasons(plan, probe)));
  }

  /** Database failures mid-request become one actionable error (an outage, or a value it refused) instead of a driver stack trace. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof NpllmError) throw error;
      throw databaseFailure(this.database.location, error);
    }
  }
}

/** The rule's reasons, and the modulator's where it decided otherwise. */
function retrievalReasons(plan: ModulatorPlan, probe: RetrievalProbe): string[] {
  if (probe.unavailable) return probe.unavailable;
  if (plan.retrieve === probe.rule.retrieve) return probe.rule.reasons;
  return [`modulator: ${plan.retrieve ? 'retrieves' : 'does not retrieve'} against the rule`, ...probe.rule.reasons.map((reason) => `rule: ${reason}`)];
}

function sameUses(a: readonly AdapterUse[], b: readonly AdapterUse[]): boolean {
  return a.length === b.length && a.every((use, index) => use.name === b[index]!.name && use.version === b[index]!.version && use.scale === b[index]!.scale);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
