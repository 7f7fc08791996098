/** Conversations: the questions of one chat, kept so they can be reopened (data-collection/). */
import { z } from 'zod';
import { conversationIdSchema } from './common.js';
import { interactionRecordSchema } from './interactions.js';
import { method } from './method.js';

export const conversationSummarySchema = z.object({
  id: z.string(),
  title: z.string().describe('The first question, shortened, until the user renames it.'),
  project: z.string().nullable().describe('The project folder its questions were asked in; null for questions without a project.'),
  createdAt: z.string(),
  updatedAt: z.string().describe('When its latest question was asked (or it was renamed).'),
  questions: z.number(),
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

export const listConversationsRequestSchema = z.strictObject({
  project: z.string().min(1).max(4096).nullable().optional().describe("Only this project's conversations; null: only those without a project; omitted: all."),
  limit: z.number().int().min(1).max(500).optional(),
});

export const conversationRequestSchema = z.strictObject({ id: conversationIdSchema });
export const renameConversationRequestSchema = z.strictObject({ id: conversationIdSchema, title: z.string().trim().min(1).max(200) });

export const conversationSchema = z.object({
  conversation: conversationSummarySchema,
  interactions: z.array(interactionRecordSchema).describe('Its questions and answers, oldest first.'),
});
export type Conversation = z.infer<typeof conversationSchema>;

export const conversationsMethods = {
  'conversations/list': method({
    summary: 'Conversations, the latest first.',
    request: listConversationsRequestSchema,
    response: z.object({ items: z.array(conversationSummarySchema) }),
  }),
  'conversations/get': method({
    summary: 'One conversation with its questions and answers.',
    request: conversationRequestSchema,
    response: conversationSchema,
  }),
  'conversations/rename': method({ summary: 'Give a conversation a title.', request: renameConversationRequestSchema, response: conversationSummarySchema }),
  'conversations/delete': method({
    summary: 'Remove a conversation from the list; its interactions stay in what npllm learns from, no longer grouped.',
    request: conversationRequestSchema,
    response: z.object({ deleted: z.boolean().describe('False when there was no such conversation.') }),
  }),
};
