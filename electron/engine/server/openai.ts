/**
 * OpenAI-compatible chat completions, so editors that speak OpenAI (Continue, Zed, Cline, …) can
 * use npllm. The conversation maps onto the engine's ask: earlier messages are the history, the
 * last user message is the question. Answers go through the same cache and are recorded the same.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatMessage } from '../../../shared/contract.js';
import { RequestError, toNpllmError } from '../../../shared/errors.js';
import { openAiChatRequestSchema, openAiContentText, openAiFinishReason, type OpenAiChatChunk, type OpenAiChatResponse } from '../../../shared/openai.js';
import { describeValidationIssues } from '../../../shared/contract.js';
import type { Engine } from '../engine.js';
import { abortOnDisconnect, sendJson } from './http.js';
import { openEventStream } from './sse.js';

/** The OpenAI `user` as a client id: itself when it is a plain id, else a digest (an e-mail address, a name with spaces). */
export function openAiClientId(user: string): string {
  return /^[\w.:@/+=-]{1,180}$/.test(user) ? `openai:${user}` : `openai:sha256:${createHash('sha256').update(user).digest('hex').slice(0, 32)}`;
}

export function handleModels(engine: Engine) {
  return { object: 'list', data: [{ id: engine.model.displayName, object: 'model', created: 0, owned_by: 'npllm' }] };
}

export async function handleChatCompletions(engine: Engine, body: unknown, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const parsed = openAiChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new RequestError('REQUEST_INVALID', `Invalid chat completion request: ${describeValidationIssues(parsed.error)}.`, {
      fix: 'Send {"messages":[{"role":"user","content":"…"}]} as in OpenAI\'s chat completions API.',
    });
  }
  const messages: ChatMessage[] = parsed.data.messages.map((message) => ({
    role: message.role === 'assistant' ? 'assistant' : message.role === 'system' || message.role === 'developer' ? 'system' : 'user',
    content: openAiContentText(message.content),
  }));
  const last = messages.at(-1);
  if (last?.role !== 'user') {
    throw new RequestError('REQUEST_INVALID', 'The last message must come from the user.', {
      fix: 'End "messages" with {"role":"user","content":"your question"}.',
    });
  }
  const maxTokens = parsed.data.max_completion_tokens ?? parsed.data.max_tokens;
  const ask = {
    question: last.content,
    history: messages.slice(0, -1),
    source: 'openai' as const,
    // Every editor comes in as `openai`: what tells two of them apart is the user they name, and
    // the history each sends back (feedback/service.ts reads a follow-up from those, never from the source).
    ...(parsed.data.user ? { clientId: openAiClientId(parsed.data.user) } : {}),
    ...(maxTokens ? { maxTokens } : {}),
  };
  const abort = abortOnDisconnect(request, response);
  const created = Math.floor(Date.now() / 1000);
  const model = engine.model.displayName;

  if (!parsed.data.stream) {
    const result = await engine.api.call('chat/ask', ask, { caller: 'http', signal: abort.signal });
    const completion: OpenAiChatResponse = {
      id: `chatcmpl-${result.interactionId}`,
      object: 'chat.completion',
      created,
      model: result.model,
      choices: [{ index: 0, message: { role: 'assistant', content: result.answer }, finish_reason: openAiFinishReason(result.finishReason) }],
      usage: {
        prompt_tokens: result.timings.promptTokens,
        completion_tokens: result.timings.tokens,
        total_tokens: result.timings.promptTokens + result.timings.tokens,
      },
      npllm: { interactionId: result.interactionId, cached: result.cached },
    };
    return sendJson(response, 200, completion);
  }

  const stream = openEventStream(response);
  const id = `chatcmpl-${created}${Math.random().toString(36).slice(2, 10)}`;
  const chunk = (delta: OpenAiChatChunk['choices'][0]['delta'], finish: 'stop' | 'length' | null, extra: Partial<OpenAiChatChunk> = {}): OpenAiChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  const sendToken = (text: string) => {
    if (!stream.started) stream.send(chunk({ role: 'assistant' }, null));
    stream.send(chunk({ content: text }, null));
  };
  try {
    const result = await engine.api.call('chat/ask', ask, {
      caller: 'http',
      signal: abort.signal,
      onEvent: (event) => event.type === 'token' && sendToken(event.text),
    });
    if (!stream.started) stream.send(chunk({ role: 'assistant' }, null));
    stream.send(chunk({}, openAiFinishReason(result.finishReason), { npllm: { interactionId: result.interactionId, cached: result.cached } }));
  } catch (error) {
    // Before the first byte the error still gets its HTTP status; after it, an error event.
    if (!stream.started) throw error;
    stream.send({ error: toNpllmError(error).toJSON() });
  }
  stream.send('[DONE]');
  stream.end();
}
