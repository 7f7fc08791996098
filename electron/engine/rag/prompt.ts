/**
 * Retrieved code enters the prompt as one system message, best chunks first, within a budget,
 * each under its path and line range so the answer can point at it.
 */
import type { ChatMessage, RetrievalSource } from '../../../shared/contract.js';
import type { ChunkHit } from './queries.js';

/** ~3 characters per token for code in SmolLM2/Llama-style BPE vocabularies: errs on the short side. */
const charactersPerToken = 3;

export function buildContextMessage(hits: readonly ChunkHit[], budgetTokens: number): { message: ChatMessage | null; sources: RetrievalSource[] } {
  let remaining = budgetTokens * charactersPerToken;
  const sections: string[] = [];
  const sources: RetrievalSource[] = [];
  for (const hit of hits) {
    const header = `### ${hit.relativePath}:${hit.startLine}-${hit.endLine}${hit.symbol ? ` (${hit.symbol})` : ''}`;
    const section = `${header}\n\`\`\`${hit.language === 'text' ? '' : hit.language}\n${hit.content}\n\`\`\``;
    if (section.length > remaining) continue;
    remaining -= section.length;
    sections.push(section);
    sources.push({ path: hit.relativePath, startLine: hit.startLine, endLine: hit.endLine, symbol: hit.symbol });
  }
  if (sections.length === 0) return { message: null, sources };
  return {
    message: {
      role: 'system',
      content: `Code from the user's project that may help. Refer to it by path and line numbers.\n\n${sections.join('\n\n')}`,
    },
    sources,
  };
}

/** The source list shown under an answer. */
export function describeSources(sources: readonly RetrievalSource[]): string {
  return sources.map((source) => `- ${source.path}:${source.startLine}-${source.endLine}${source.symbol ? ` (${source.symbol})` : ''}`).join('\n');
}
