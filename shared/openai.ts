/**
 * The subset of OpenAI's chat-completions API that editors (Continue, Cline, Zed, …) send, so they
 * can point at npllm's server. Unknown fields are tolerated, as OpenAI's own server does.
 */
import { z } from 'zod';
import type { FinishReason } from './contract.js';

const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

export const openAiChatRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'user', 'assistant', 'developer', 'tool']),
        content: z.union([z.string(), z.array(contentPartSchema), z.null()]),
      }),
    )
    .min(1),
  stream: z.boolean().optional(),
  max_tokens: z.number().int().min(1).max(8192).optional(),
  max_completion_tokens: z.number().int().min(1).max(8192).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** The end user, as OpenAI's API names them: npllm reads follow-ups only within one user's conversations. */
  user: z.string().min(1).max(1000).optional(),
});
export type OpenAiChatRequest = z.infer<typeof openAiChatRequestSchema>;

export function openAiContentText(content: OpenAiChatRequest['messages'][number]['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
}

/** OpenAI has no "repetition": an answer cut because it looped was cut short, like one at the limit. */
export function openAiFinishReason(reason: FinishReason): 'stop' | 'length' {
  return reason === 'stop' ? 'stop' : 'length';
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface OpenAiChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: 0; message: { role: 'assistant'; content: string }; finish_reason: 'stop' | 'length' }[];
  usage: OpenAiUsage;
  npllm: { interactionId: string; cached: boolean };
}

export interface OpenAiChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: 0; delta: { role?: 'assistant'; content?: string }; finish_reason: 'stop' | 'length' | null }[];
  npllm?: { interactionId: string; cached: boolean };
}
