/**
 * `npllm`: ask a question (`--query`), or run the server (`--config FILE` / `serve`).
 * stdout carries only the answer (or the --json object); progress, logs and errors go to stderr.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AskResponse, Progress } from '../../../shared/contract.js';
import { toNpllmError, type NpllmError } from '../../../shared/errors.js';
import { checkQuestion } from '../../../shared/text.js';
import { loadConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { Engine } from '../engine.js';
import { createLogger } from '../log.js';
import { packageVersion, rendererFolder } from '../paths.js';
import { resolveProjectRoot } from '../rag/indexer.js';
import { describeSources } from '../rag/prompt.js';
import { watchProject } from '../rag/watch.js';
import { startServer } from '../server/http-server.js';

interface CliOptions {
  query?: string;
  json?: boolean;
  config?: string;
  model?: string;
  threads?: number;
  maxTokens?: number;
  contextSize?: number;
  project?: string;
  cache: boolean;
  host?: string;
  port?: number;
}

function integer(name: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}".`);
    return parsed;
  };
}

export function buildProgram(): Command {
  const program = new Command('npllm')
    .description('NeuroPlastic LLM: a local code assistant that runs on your CPU and learns from you.')
    .version(packageVersion)
    .option('-q, --query <question>', 'ask a question and stream the answer to stdout ("-" reads it from stdin)')
    .option('--json', 'print one JSON object (answer, interactionId, cached, model, timings) instead of streaming')
    .option('-c, --config <file>', 'YAML config file; without --query, starts the server')
    .option('-m, --model <path|uri>', 'GGUF model path or hf: URI (default: SmolLM2-135M-Instruct Q4_1)')
    .option('-t, --threads <n>', 'llama.cpp threads', integer('--threads'))
    .option('--max-tokens <n>', 'longest answer, in tokens', integer('--max-tokens'))
    .option('--context-size <n>', 'model context window, in tokens', integer('--context-size'))
    .option('-p, --project <path>', 'the project the question is about')
    .option('--no-cache', 'do not answer from the response cache')
    .addOption(new Option('--host <host>', 'server address').hideHelp())
    .addOption(new Option('--port <port>', 'server port').argParser(integer('--port')).hideHelp())
    .action(async (options: CliOptions) => {
      if (options.query !== undefined) process.exitCode = await runQuery(options);
      else if (options.config) process.exitCode = await runServer(options);
      else program.help();
    });

  program
    .command('index')
    .description('index a project for retrieval (incremental: only changed files are read again)')
    .argument('<path>', 'the project folder')
    .option('--json', 'print one JSON object with the result')
    .option('-w, --watch', 'keep the index fresh as files change (Ctrl+C to stop)')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (path: string, options: CliOptions & { watch?: boolean }) => {
      process.exitCode = await runIndex(path, { ...program.opts<CliOptions>(), ...options });
    });

  program
    .command('serve')
    .description('start the HTTP server (API, OpenAI-compatible endpoint, web UI)')
    .option('-c, --config <file>', 'YAML config file')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 7411)', integer('--port'))
    .action(async (options: CliOptions) => {
      process.exitCode = await runServer({ ...program.opts<CliOptions>(), ...options });
    });
  return program;
}

function configFrom(options: CliOptions): Config {
  const overrides: ConfigOverrides = {
    model: {
      ...(options.model ? { path: options.model } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    },
    server: {
      ...(options.host ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    },
  };
  return loadConfig({ file: options.config, overrides });
}

async function runQuery(options: CliOptions): Promise<number> {
  return withEngine(options, { beforeOpen: async (config) => {
    const question = options.query === '-' ? await readStdin() : (options.query ?? '');
    checkQuestion(question, config.query.maxChars);
    return question;
  } }, async (engine, question, session) => {
    let streamed = false;
    const result = await engine.ask(
      { question, source: 'cli', noCache: !options.cache, ...(options.project ? { project: resolve(options.project) } : {}) },
      {
        signal: session.signal,
        onProgress: session.progress,
        onToken: options.json
          ? undefined
          : (text) => {
              streamed = true;
              process.stdout.write(text);
            },
      },
    );
    if (options.json) process.stdout.write(`${JSON.stringify(jsonResult(result))}\n`);
    else {
      if (!streamed) process.stdout.write(result.answer);
      if (!result.answer.endsWith('\n')) process.stdout.write('\n');
      if (result.retrieval.used) process.stdout.write(`\nSources:\n${describeSources(result.retrieval.sources)}\n`);
      process.stderr.write(`${describeResult(result)}\n`);
    }
  });
}

interface EngineSession {
  signal: AbortSignal;
  progress: (progress: Progress) => void;
}

/**
 * Opens the engine for one command: Ctrl+C cancels the work (which records what it must), progress
 * goes to stderr, failures become a message with a fix and the exit code of their kind.
 */
async function withEngine<T>(
  options: CliOptions,
  setup: { beforeOpen: (config: Config) => Promise<T> },
  work: (engine: Engine, prepared: T, session: EngineSession) => Promise<void>,
): Promise<number> {
  let engine: Engine | undefined;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  const progress = progressPrinter();
  try {
    const config = configFrom(options);
    const prepared = await setup.beforeOpen(config);
    engine = await Engine.open(config, { onProgress: progress, logger: createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, home: config.home }) });
    await work(engine, prepared, { signal: abort.signal, progress });
    return 0;
  } catch (error) {
    return reportError(toNpllmError(error), options.json === true);
  } finally {
    process.off('SIGINT', onSigint);
    await engine?.dispose();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
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
    ...(result.cachedFrom ? { cachedFrom: result.cachedFrom } : {}),
  };
}

function describeResult(result: AskResponse): string {
  const source = result.cached ? `cached answer (first given in interaction ${result.cachedFrom}; the model did not run)` : `${result.model}`;
  const speed = result.cached ? `${result.timings.totalMs} ms` : `${result.timings.tokens} tokens, first after ${Math.round(result.timings.ttftMs)} ms, ${(result.timings.totalMs / 1000).toFixed(1)} s in all`;
  const cut = { stop: '', length: ' (cut at --max-tokens)', repetition: ' (stopped: the model was repeating itself)' }[result.finishReason];
  return `[npllm] ${source} · ${speed}${cut} · interaction ${result.interactionId}`;
}

async function runIndex(path: string, options: CliOptions & { watch?: boolean }): Promise<number> {
  return withEngine(options, { beforeOpen: () => resolveProjectRoot(path) }, async (engine, root, session) => {
    const indexOnce = async () => {
      const result = await engine.rag.index(root, { signal: session.signal, onProgress: session.progress });
      if (options.json) {
        const { files, chunks, skipped, secretsSkipped, seconds } = result;
        process.stdout.write(`${JSON.stringify({ files, chunks, skipped, secretsSkipped, seconds, changedFiles: result.changedFiles, removedFiles: result.removedFiles, root: result.root })}\n`);
        return;
      }
      const left = Object.entries(result.skipped)
        .filter(([, count]) => count > 0)
        .map(([reason, count]) => `${count} ${reason}`);
      process.stderr.write(
        `[npllm] ${result.root}: ${result.files} files, ${result.chunks} chunks (${result.changedFiles} changed, ${result.removedFiles} removed) in ${result.seconds} s` +
          `${left.length ? `; left out: ${left.join(', ')}` : ''}${result.secretsSkipped ? ' (secrets are never read into the index)' : ''}\n`,
      );
    };
    await indexOnce();
    if (!options.watch) return;
    process.stderr.write('[npllm] watching for changes (Ctrl+C to stop)\n');
    await watchProject(root, () => indexOnce().catch((error: unknown) => void reportError(toNpllmError(error), false)), {
      debounceMs: 750,
      pollMs: 30_000,
      signal: session.signal,
      onFallback: (reason) => process.stderr.write(`[npllm] file events unavailable (${reason}); re-indexing every 30 s instead\n`),
    });
  });
}

async function runServer(options: CliOptions): Promise<number> {
  let engine: Engine | undefined;
  try {
    const config = configFrom(options);
    const logger = createLogger({ level: config.log.level, home: config.home });
    engine = await Engine.open(config, { logger });
    const server = await startServer(engine, { ...config.server, staticDir: config.server.staticDir ?? rendererFolder });
    logger.log('info', `server listening on ${server.url} (model ${engine.model.displayName}, ${engine.model.threads} thread(s), database ${engine.database.kind} at ${engine.database.location})`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    logger.log('info', 'shutting down');
    await server.close();
    return 0;
  } catch (error) {
    return reportError(toNpllmError(error), false);
  } finally {
    await engine?.dispose();
  }
}

function reportError(error: NpllmError, json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
  process.stderr.write(`npllm: ${error.describe()}\n`);
  if (process.env['NPLLM_LOG_LEVEL'] === 'debug' && error.cause instanceof Error) process.stderr.write(`${error.cause.stack ?? error.cause.message}\n`);
  return error.exitCode;
}

/** Progress on stderr: a rewritten line on a terminal, sparse lines in logs. */
function progressPrinter(): (progress: Progress) => void {
  const tty = process.stderr.isTTY;
  let lastKey = '';
  return (progress) => {
    const percent = progress.fraction === null ? '' : ` ${Math.round(progress.fraction * 100)}%`;
    const line = `[npllm] ${progress.label}${percent}`;
    if (tty) {
      process.stderr.write(`\r\x1b[2K${line}${progress.done ? '\n' : ''}`);
      return;
    }
    const key = `${progress.task}:${progress.done ? 'done' : progress.fraction === null ? '' : Math.floor(progress.fraction * 4)}`;
    if (key === lastKey) return;
    lastKey = key;
    process.stderr.write(`${line}\n`);
  };
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
