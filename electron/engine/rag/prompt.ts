/**
 * Retrieved code enters the prompt as one system message, best chunks first, within a budget,
 * each under its path and line range so the answer can point at it.
 */
import type { ChatMessage, RetrievalSource } from '../../../shared/contract.js';
import type { ChunkHit } from './queries.js';
import type { TokenCounter } from './types.js';

/**
 * Best chunks first, each whole or not at all, until `budgetTokens` (counted in the answering
 * model's vocabulary) is spent; a chunk that does not fit is skipped so a smaller later one may.
 */
export function buildContextMessage(
  hits: readonly ChunkHit[],
  budgetTokens: number,
  countTokens: TokenCounter,
): { message: ChatMessage | null; sources: RetrievalSource[] } {
  const preamble = "Code from the user's project that may help. Refer to it by path and line numbers.";
  let remaining = budgetTokens - countTokens(preamble);
  const sections: string[] = [];
  const sources: RetrievalSource[] = [];
  for (const hit of hits) {
    const header = `### ${hit.relativePath}:${hit.startLine}-${hit.endLine}${hit.symbol ? ` (${hit.symbol})` : ''}`;
    const section = `${header}\n\`\`\`${hit.language === 'text' ? '' : hit.language}\n${hit.content}\n\`\`\``;
    // Two newlines join sections: one token or two in every vocabulary.
    const cost = countTokens(section) + 2;
    if (cost > remaining) continue;
    remaining -= cost;
    sections.push(section);
    sources.push({ path: hit.relativePath, startLine: hit.startLine, endLine: hit.endLine, symbol: hit.symbol });
  }
  if (sections.length === 0) return { message: null, sources };
  return { message: { role: 'system', content: `${preamble}\n\n${sections.join('\n\n')}` }, sources };
}

/** The source list shown under an answer. */
export function describeSources(sources: readonly RetrievalSource[]): string {
  return sources.map((source) => `- ${source.path}:${source.startLine}-${source.endLine}${source.symbol ? ` (${source.symbol})` : ''}`).join('\n');
}
