/**
 * Implicit and emotional feedback: validates events, stores them before acknowledging them, and
 * recomputes the interaction's reward in the same transaction (feedback/README.md).
 */
import type { ChatMessage, FeedbackAck, FeedbackEventType, FeedbackRequest, RewardSummary } from '../../../shared/contract.js';
import { NpllmError, RequestError } from '../../../shared/errors.js';
import type { FeedbackConfig } from './config.js';
import type { Db } from '../db/client.js';
import { newInteractionId } from '../data-collection/ids.js';
import { boundedEditDistance } from './edit-distance.js';
import { scoreEmotion, type EmotionScore } from './emotion/score.js';
import {
  answeredInHistory,
  eventsOf,
  findEvent,
  findInteractionQuestion,
  findReward,
  insertEvent,
  latestInConversation,
  lockInteraction,
  storeReward,
  updateEventValue,
  type FeedbackEventRow,
  type NewFeedbackEvent,
} from './queries.js';
import { computeReward } from './reward.js';

export interface FollowUpMessage {
  /** The new interaction: the message that may follow up an earlier answer. */
  interactionId: string;
  question: string;
  /** The turns before it, as the client sent them: the answer it ends with is the one it reacts to. */
  history?: readonly ChatMessage[] | undefined;
  conversationId?: string | null | undefined;
  clientId?: string | null | undefined;
  replyTo?: string | undefined;
}

/** A history names its answer explicitly, so it links for longer than the implicit window; a day bounds the search. */
const historyLinkHours = 24;

export interface FollowUp {
  interactionId: string;
  emotion: EmotionScore;
}

export class FeedbackService {
  constructor(
    private readonly db: Db,
    private readonly config: FeedbackConfig,
  ) {}

  /** Stores one client event (idempotent by `eventId`) and returns the interaction's new reward. */
  async record(request: FeedbackRequest): Promise<FeedbackAck> {
    this.validate(request);
    const eventId = request.eventId ?? `evt-${newInteractionId()}`;
    const row: NewFeedbackEvent = {
      id: eventId,
      interactionId: request.interactionId,
      type: request.type,
      value: request.value ?? null,
      text: request.text ?? null,
      detail: null,
      occurredAt: request.occurredAt ? new Date(request.occurredAt) : new Date(),
    };
    return this.db.transaction(async (tx) => {
      const interaction = await lockInteraction(tx, request.interactionId);
      if (!interaction) {
        throw new NpllmError('NOT_FOUND', `No interaction with id ${request.interactionId}; the ${request.type} event was not stored.`, {
          fix: 'Send feedback for an interactionId returned by chat/ask (npllm --query … --json prints it).',
        });
      }
      const inserted = await insertEvent(tx, row);
      if (!inserted) {
        const existing = (await findEvent(tx, eventId))!;
        if (isSameDwell(existing, row)) {
          // Reading time only grows: a client reports dwell under one id and may report it again
          // after more reading, so a larger value replaces the stored one.
          if ((row.value ?? 0) > (existing.value ?? 0)) {
            await updateEventValue(tx, eventId, row.value!);
            return { eventId, duplicate: false, reward: await this.recompute(tx, request.interactionId, interaction.answer) };
          }
        } else if (!sameEvent(existing, row)) {
          throw new NpllmError('CONFLICT', `Feedback event ${eventId} already exists with different content.`, {
            fix: 'Use a new eventId for a new event; resend an event only to retry it, unchanged.',
          });
        }
        return { eventId, duplicate: true, reward: await this.rewardSummary(tx, request.interactionId) };
      }
      return { eventId, duplicate: false, reward: await this.recompute(tx, request.interactionId, interaction.answer) };
    });
  }

  /**
   * Reads a new message as the user's reaction to their previous answer: the interaction it
   * replies to gets a `follow-up` event carrying the message's emotional valence. Null when there
   * is none. Which answer a message reacts to is known only from the message's own conversation:
   * `replyTo`, the answer its history ends with, or the latest answer of its conversation — never
   * from another client that merely came in the same way (every OpenAI client is source `openai`).
   */
  async noteFollowUp(message: FollowUpMessage): Promise<FollowUp | null> {
    const previous = message.replyTo ? await findInteractionQuestion(this.db, message.replyTo) : await this.reactedTo(message);
    if (!previous) {
      if (message.replyTo)
        throw new NpllmError('NOT_FOUND', `replyTo names no interaction (${message.replyTo}).`, {
          fix: 'Set replyTo to the interactionId of the answer this message reacts to, or leave it out.',
        });
      return null;
    }
    const emotion = scoreEmotion(message.question, { previous: previous.question });
    await this.db.transaction(async (tx) => {
      const interaction = await lockInteraction(tx, previous.id);
      await insertEvent(tx, {
        id: `follow-up:${message.interactionId}`,
        interactionId: previous.id,
        type: 'follow-up',
        value: emotion.valence,
        text: null,
        detail: {
          label: emotion.label,
          frustration: emotion.frustration,
          satisfaction: emotion.satisfaction,
          cues: emotion.cues,
          language: emotion.language,
          followUpInteractionId: message.interactionId,
        },
        occurredAt: new Date(),
      });
      await this.recompute(tx, previous.id, interaction?.answer ?? null);
    });
    return { interactionId: previous.id, emotion };
  }

  private async reactedTo(message: FollowUpMessage): Promise<{ id: string; question: string } | null> {
    const clientId = message.clientId ?? null;
    const history = message.history ?? [];
    const lastAnswer = history.findLastIndex((turn) => turn.role === 'assistant');
    if (lastAnswer !== -1) {
      const asked = history[lastAnswer - 1];
      const found = await answeredInHistory(this.db, {
        answer: history[lastAnswer]!.content,
        question: asked?.role === 'user' ? asked.content : null,
        clientId,
        since: new Date(Date.now() - historyLinkHours * 3_600_000),
        excludeId: message.interactionId,
      });
      if (found) return found;
    }
    if (!message.conversationId) return null;
    return latestInConversation(this.db, {
      conversationId: message.conversationId,
      clientId,
      since: new Date(Date.now() - this.config.followUpWindowSeconds * 1000),
      excludeId: message.interactionId,
    });
  }

  /** A request that asks again for an answer: that answer's `regenerated` event, stored with the request. */
  async noteRegeneration(message: { interactionId: string; regenerates: string }): Promise<RewardSummary> {
    return this.db.transaction(async (tx) => {
      const interaction = await lockInteraction(tx, message.regenerates);
      if (!interaction) {
        throw new NpllmError('NOT_FOUND', `regenerates names no interaction (${message.regenerates}).`, {
          fix: 'Set regenerates to the interactionId of the answer being asked for again.',
        });
      }
      await insertEvent(tx, {
        id: `regenerated:${message.interactionId}`,
        interactionId: message.regenerates,
        type: 'regenerated',
        value: null,
        text: null,
        detail: { regeneratedBy: message.interactionId },
        occurredAt: new Date(),
      });
      return this.recompute(tx, message.regenerates, interaction.answer);
    });
  }

  async reward(interactionId: string): Promise<RewardSummary> {
    return this.rewardSummary(this.db, interactionId);
  }

  private async recompute(db: Db, interactionId: string, answer: string | null): Promise<RewardSummary> {
    const events = await eventsOf(db, interactionId);
    const { reward, components } = computeReward(
      { answer, events },
      { weights: this.config.weights, dwellSaturationSeconds: this.config.dwellSaturationSeconds, editDistance: boundedEditDistance },
    );
    await storeReward(db, { interactionId, reward, components, events: events.length });
    return { interactionId, reward, components, events: events.length };
  }

  private async rewardSummary(db: Db, interactionId: string): Promise<RewardSummary> {
    const stored = await findReward(db, interactionId);
    return { interactionId, reward: stored?.reward ?? null, components: stored?.components ?? {}, events: stored?.events ?? 0 };
  }

  /** Rules the contract's schema cannot express: which events need a value, and sane ranges. */
  private validate(request: FeedbackRequest): void {
    const invalid = (message: string, fix: string) => new RequestError('REQUEST_INVALID', message, { fix });
    const needsValue: Partial<Record<FeedbackEventType, string>> = { dwell: 'seconds the answer stayed on screen' };
    if (needsValue[request.type] && request.value === undefined) {
      throw invalid(`A ${request.type} event needs a value: the ${needsValue[request.type]}.`, `Send "value" (npllm feedback ID ${request.type} --value N).`);
    }
    if (request.type === 'dwell' && (request.value! < 0 || request.value! > this.config.maxDwellSeconds)) {
      throw invalid(
        `A dwell of ${request.value} s is not plausible (0–${this.config.maxDwellSeconds} s).`,
        'Send the seconds the answer was actually in view; stop counting when the window loses focus.',
      );
    }
    if (request.type === 'edited' && request.value === undefined && request.text === undefined) {
      throw invalid('An edited event needs the edit distance ("value", in characters) or the edited text ("text").', 'Send one of them.');
    }
    if (request.type === 'edited' && request.value !== undefined && (request.value < 0 || !Number.isInteger(request.value))) {
      throw invalid(
        `An edit distance must be a whole number of characters ≥ 0, not ${request.value}.`,
        'Send the Levenshtein distance between the answer and the edited text, or the text itself.',
      );
    }
    if (request.occurredAt && Date.parse(request.occurredAt) > Date.now() + 5 * 60_000) {
      throw invalid(`The event's occurredAt (${request.occurredAt}) is in the future.`, "Send the client's current time, or leave occurredAt out.");
    }
  }
}

function isSameDwell(existing: FeedbackEventRow, incoming: NewFeedbackEvent): boolean {
  return existing.type === 'dwell' && incoming.type === 'dwell' && existing.interactionId === incoming.interactionId;
}

function sameEvent(existing: FeedbackEventRow, incoming: NewFeedbackEvent): boolean {
  return (
    existing.interactionId === incoming.interactionId &&
    existing.type === incoming.type &&
    (existing.value ?? null) === (incoming.value ?? null) &&
    (existing.text ?? null) === (incoming.text ?? null)
  );
}
