/** A conversation as node-llama-cpp's chat session takes it: the system prompt first, then the turns. */
import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatMessage } from '../../../shared/contract.js';

export function toChatHistory(systemPrompt: string, messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (systemPrompt) history.push({ type: 'system', text: systemPrompt });
  for (const message of messages) {
    if (message.role === 'system') history.push({ type: 'system', text: message.content });
    else if (message.role === 'user') history.push({ type: 'user', text: message.content });
    else history.push({ type: 'model', response: [message.content] });
  }
  return history;
}
