/** What happened to an answer (feedback/): implicit events, never a rating. */
import { z } from 'zod';
import { method } from './method.js';

export const feedbackEventTypes = ['copied', 'inserted', 'edited', 'regenerated', 'corrected', 'dwell', 'ignored', 'follow-up'] as const;
export type FeedbackEventType = (typeof feedbackEventTypes)[number];

export const feedbackRequestSchema = z.strictObject({
  /** Client-chosen id that makes a retry harmless; generated when omitted. */
  eventId: z.string().min(8).max(100).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').optional(),
  interactionId: z.string().min(1).max(100),
  /** `follow-up` is derived by the engine from the user's next message and cannot be sent. */
  type: z.enum(feedbackEventTypes).exclude(['follow-up']),
  /** dwell: seconds; edited: edit distance in characters (or send `text`). */
  value: z.number().finite().optional(),
  /** edited: the user's final version of the answer; corrected: the user's correction. */
  text: z.string().max(200_000).optional(),
  /** When it happened on the client (ISO 8601); defaults to when it arrived. */
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

export const rewardSummarySchema = z.object({
  interactionId: z.string(),
  /** In [-1, 1]; null until an event has arrived. */
  reward: z.number().nullable(),
  /** Each signal's contribution before squashing. */
  components: z.record(z.string(), z.number()),
  events: z.number(),
});
export type RewardSummary = z.infer<typeof rewardSummarySchema>;

export const feedbackAckSchema = z.object({
  eventId: z.string(),
  /** The same event had already been stored; nothing changed. */
  duplicate: z.boolean(),
  reward: rewardSummarySchema,
});
export type FeedbackAck = z.infer<typeof feedbackAckSchema>;

export const feedbackMethods = {
  'feedback/record': method({ summary: 'Record what happened to an answer; idempotent by eventId; returns the new reward.', request: feedbackRequestSchema, response: feedbackAckSchema }),
};
