/** What happened to an answer (feedback/): implicit events, never a rating. */
import { z } from 'zod';
import { method } from './method.js';

export const feedbackEventTypes = ['copied', 'inserted', 'edited', 'regenerated', 'corrected', 'dwell', 'ignored', 'follow-up'] as const;
export type FeedbackEventType = (typeof feedbackEventTypes)[number];

export const feedbackRequestSchema = z.strictObject({
  eventId: z
    .string()
    .min(8)
    .max(100)
    .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only')
    .optional()
    .describe('Client-chosen id that makes a retry harmless; generated when omitted.'),
  interactionId: z.string().min(1).max(100),
  type: z.enum(feedbackEventTypes).exclude(['follow-up']).describe("`follow-up` is derived by the engine from the user's next message and cannot be sent."),
  value: z.number().finite().optional().describe('dwell: seconds; edited: edit distance in characters (or send `text`).'),
  text: z.string().max(200_000).optional().describe("edited: the user's final version of the answer; corrected: the user's correction."),
  occurredAt: z.iso.datetime({ offset: true }).optional().describe('When it happened on the client (ISO 8601); defaults to when it arrived.'),
});
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

export const rewardSummarySchema = z.object({
  interactionId: z.string(),
  reward: z.number().nullable().describe('In [-1, 1]; null until an event has arrived.'),
  components: z.record(z.string(), z.number()).describe("Each signal's contribution before squashing."),
  events: z.number(),
});
export type RewardSummary = z.infer<typeof rewardSummarySchema>;

export const feedbackAckSchema = z.object({
  eventId: z.string(),
  duplicate: z.boolean().describe('The same event had already been stored; nothing changed.'),
  reward: rewardSummarySchema,
});
export type FeedbackAck = z.infer<typeof feedbackAckSchema>;

export const feedbackMethods = {
  'feedback/record': method({
    summary: 'Record what happened to an answer; idempotent by eventId; returns the new reward.',
    request: feedbackRequestSchema,
    response: feedbackAckSchema,
  }),
};
