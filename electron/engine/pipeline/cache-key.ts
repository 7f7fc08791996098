import { createHash } from 'node:crypto';
import type { AdapterUse, ChatMessage } from '../../../shared/contract.js';
import { normalizeQuestion } from '../../../shared/text.js';

export interface CacheKeyParts {
  question: string;
  history: ChatMessage[];
  project: string | null;
  modelFingerprint: string;
  adapters: AdapterUse[];
  systemPrompt: string;
  maxTokens: number;
  temperature: number;
  /** Content hashes of the project code retrieved for this question. */
  retrieved: string[];
}

/**
 * Everything that can change an answer is in the key: the normalised question, the conversation
 * and project it was asked in, the project code retrieved for it, the exact model file, every
 * adapter's version and scale, and the generation settings. A new model or adapter version therefore never meets an old answer.
 */
export function responseCacheKey(parts: CacheKeyParts): string {
  const adapters = [...parts.adapters].sort((a, b) => a.name.localeCompare(b.name)).map((a) => [a.name, a.version, a.scale]);
  const history = parts.history.map((message) => [message.role, message.content]);
  return createHash('sha256')
    .update(
      JSON.stringify([
        normalizeQuestion(parts.question),
        history,
        parts.project,
        parts.modelFingerprint,
        adapters,
        parts.systemPrompt,
        parts.maxTokens,
        parts.temperature,
        parts.retrieved,
      ]),
    )
    .digest('hex');
}
