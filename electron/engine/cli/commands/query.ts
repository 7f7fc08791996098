/** `npllm --query Q`: ask, streaming the answer to stdout (or one JSON object with --json). */
import { isUtf8 } from 'node:buffer';
import { resolve } from 'node:path';
import { RequestError } from '../../../../shared/errors.js';
import type { AskResponse } from '../../../../shared/contract.js';
import { checkQuestion } from '../../../../shared/text.js';
import { describeSources } from '../../rag/prompt.js';
import { terminalConversation } from '../conversation.js';
import type { CliOptions } from '../options.js';
import { printJson } from '../output.js';
import { withSession } from '../session.js';

export function runQuery(options: CliOptions): Promise<number> {
  const prepare = async (config: { query: { maxChars: number } }) => {
    const question = options.query === '-' ? await readStdin() : (options.query ?? '');
    checkQuestion(question, config.query.maxChars);
    return question;
  };
  return withSession(options, { needsModel: true, prepare }, async (session, question) => {
    let streamed = false;
    const onToken = options.json
      ? undefined
      : (text: string) => {
          streamed = true;
          process.stdout.write(text);
        };
    const result = await session.call(
      'chat/ask',
      {
        question,
        source: 'cli',
        noCache: !options.cache,
        ...(options.project ? { project: resolve(options.project) } : {}),
        ...(options.replyTo ? { replyTo: options.replyTo } : {}),
        ...conversation(options),
        ...(options.adapterChannel ? { adapterChannel: options.adapterChannel } : {}),
      },
      onToken,
    );
    if (options.json) return printJson(jsonResult(result));
    if (!streamed) process.stdout.write(result.answer);
    if (!result.answer.endsWith('\n')) process.stdout.write('\n');
    if (result.retrieval.used) process.stdout.write(`\nSources:\n${describeSources(result.retrieval.sources)}\n`);
    process.stderr.write(`${describeResult(result)}\n`);
  });
}

function conversation(options: CliOptions): { conversationId?: string } {
  const id = options.conversation ?? terminalConversation();
  return id ? { conversationId: id } : {};
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  // Decoding would turn the bad bytes into U+FFFD: the question asked would not be the one sent.
  if (!isUtf8(bytes))
    throw new RequestError('QUERY_INVALID', 'The question read from stdin is not UTF-8 text.', {
      fix: 'Pipe a UTF-8 text file into --query - (not a binary file).',
    });
  return bytes.toString('utf8');
}

/** The stable --json shape other tools parse; keep the field names. */
function jsonResult(result: AskResponse) {
  return {
    answer: result.answer,
    interactionId: result.interactionId,
    cached: result.cached,
    model: result.model,
    adapters: result.adapters,
    timings: { ttftMs: result.timings.ttftMs, totalMs: result.timings.totalMs, tokens: result.timings.tokens, loadMs: result.timings.loadMs },
    finishReason: result.finishReason,
    retrieval: result.retrieval,
    ...(result.modulator ? { modulator: result.modulator } : {}),
    ...(result.cachedFrom ? { cachedFrom: result.cachedFrom } : {}),
  };
}

function describeResult(result: AskResponse): string {
  const source = result.cached ? `cached answer (first given in interaction ${result.cachedFrom}; the model did not run)` : `${result.model}`;
  const speed = result.cached
    ? `${result.timings.totalMs} ms`
    : `${result.timings.tokens} tokens, first after ${Math.round(result.timings.ttftMs)} ms, ${(result.timings.totalMs / 1000).toFixed(1)} s in all`;
  const cut = { stop: '', length: ' (cut at --max-tokens)', repetition: ' (stopped: the model was repeating itself)' }[result.finishReason];
  const adapters = result.adapters.length ? ` · adapters ${result.adapters.map((adapter) => `${adapter.name} v${adapter.version}`).join(', ')}` : '';
  return `[npllm] ${source}${adapters} · ${speed}${cut} · interaction ${result.interactionId}`;
}
