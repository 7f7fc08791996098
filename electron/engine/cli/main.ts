/**
 * `npllm`: ask a question (`--query`), or run the server (`--config FILE` / `serve`).
 * stdout carries only the answer (or the --json object); progress, logs and errors go to stderr.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { feedbackEventTypes, type AdapterChannelChange, type AdapterRecord, type AskResponse, type BehaviourMetrics, type BehaviourStats, type DetectedStack, type Progress } from '../../../shared/contract.js';
import { describeValidationIssues, learningStatsRequestSchema, type AdapterLearningStats, type LearningRunRecord, type LearningStats } from '../../../shared/contract.js';
import { RequestError, toNpllmError, type NpllmError } from '../../../shared/errors.js';
import { formatDuration } from '../../../shared/format.js';
import { shortProjectNames } from '../../../shared/learning-metrics.js';
import { checkQuestion } from '../../../shared/text.js';
import { loadConfig, type Config, type ConfigOverrides } from '../config/config.js';
import { catalogueIds, defaultModelId } from '../model/catalogue.js';
import { detectContext } from '../context/detect.js';
import { buildTrainingData, writeJsonl } from '../data-collection/training-data.js';
import { Engine } from '../engine.js';
import { createLogger } from '../log.js';
import { defaultLearningRuns, learningStats } from '../metrics/learning.js';
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
  replyTo?: string;
  adapterChannel?: 'stable' | 'experimental';
  cache: boolean;
  host?: string;
  port?: number;
  maxSteps?: number;
  trainerThreads?: number;
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
    // `npllm data export --project P`: options after a command are that command's, not the root's `--project`.
    .enablePositionalOptions()
    .option('-q, --query <question>', 'ask a question and stream the answer to stdout ("-" reads it from stdin)')
    .option('--json', 'print one JSON object (answer, interactionId, cached, model, timings) instead of streaming')
    .option('-c, --config <file>', 'YAML config file; without --query, starts the server')
    .option('-m, --model <id|path|uri>', `a catalogue model (${catalogueIds.join(', ')}; default ${defaultModelId}), a GGUF file or an hf: URI`)
    .option('-t, --threads <n>', 'llama.cpp threads', integer('--threads'))
    .option('--max-tokens <n>', 'longest answer, in tokens', integer('--max-tokens'))
    .option('--context-size <n>', 'model context window, in tokens', integer('--context-size'))
    .option('-p, --project <path>', 'the project the question is about')
    .option('--no-cache', 'do not answer from the response cache')
    .option('--reply-to <interactionId>', 'the answer this question reacts to (default: your previous question within 10 minutes)')
    .addOption(new Option('--adapter-channel <channel>', 'answer with the stable adapters, or try the newest experimental ones').choices(['stable', 'experimental']))
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

  const context = program.command('context').description("a project's stacks, detected from its metadata and confirmed by you");
  context
    .command('detect')
    .description('propose the stacks of a project folder, with evidence (reads manifests and file names only)')
    .argument('<path>', 'the project folder')
    .option('--json', 'print one JSON object')
    .action(async (path: string, options: { json?: boolean }) => {
      process.exitCode = await runContextDetect(path, options);
    });
  context
    .command('confirm')
    .description("store the project's profile: the detected stacks, or the ones you name")
    .argument('<path>', 'the project folder')
    .option('-s, --stack <stacks...>', 'the stacks to keep, as name or name@version (default: the proposal; asked on a terminal)')
    .option('-y, --yes', 'confirm the proposal without asking')
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (path: string, options: CliOptions & { stack?: string[]; yes?: boolean }) => {
      process.exitCode = await runContextConfirm(path, { ...program.opts<CliOptions>(), ...options });
    });

  program
    .command('feedback')
    .description(`record what happened to an answer: ${feedbackEventTypes.filter((type) => type !== 'follow-up').join(', ')}`)
    .argument('<interactionId>', 'the interaction (printed by --query)')
    .argument('<event>', 'the event type')
    .option('-v, --value <number>', 'dwell: seconds; edited: edit distance in characters', parseNumber)
    .option('--text <text>', 'edited: your final version; corrected: your correction')
    .option('--event-id <id>', 'makes a retry harmless: the same id is stored once')
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (interactionId: string, event: string, options: CliOptions & { value?: number; text?: string; eventId?: string }) => {
      process.exitCode = await runFeedback(interactionId, event, { ...program.opts<CliOptions>(), ...options });
    });

  program
    .command('stats')
    .description('behaviour metrics: acceptance, regenerations, frustration, reward, cache hits, retrieval, latency; with --learning, what the adapters learned and forgot')
    .option('-p, --project <path>', 'one project only')
    .option('--days <n>', 'days of history (default 30)', integer('--days'))
    .option('--learning', 'learning metrics instead: held-out NLL of every adapter version on every project, gain over the base model, backward transfer, latest runs')
    .option('--adapter <name>', 'with --learning: one adapter only')
    .option('--runs <n>', `with --learning: latest runs listed per adapter (default ${defaultLearningRuns})`, integer('--runs'))
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: StatsOptions) => {
      process.exitCode = await runStats({ ...program.opts<CliOptions>(), ...options });
    });

  const data = program.command('data').description('the training data npllm collects');
  data
    .command('export')
    .description("write a project's training examples (accepted answers, corrections, code) as JSONL")
    .requiredOption('-p, --project <path>', 'the project')
    .option('-o, --out <file>', 'output file (default: <data folder>/exports/<project>-<time>.jsonl)')
    .option('--json', 'print one JSON object with the counts')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: CliOptions & { out?: string }) => {
      process.exitCode = await runDataExport({ ...program.opts<CliOptions>(), ...options });
    });

  const adapters = program.command('adapters').description('the LoRA adapters npllm learned: versions and channels (experimental, stable, archived)');
  adapters
    .command('list')
    .description('every registered adapter version, newest first')
    .argument('[name]', 'one adapter only')
    .option('--json', 'print a JSON array')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (name: string | undefined, options: CliOptions) => {
      process.exitCode = await runAdaptersList(name, { ...program.opts<CliOptions>(), ...options });
    });
  for (const [action, description] of [
    ['promote', 'make a version stable (default: the newest experimental one); the stable one before it is archived'],
    ['rollback', 'archive the stable version and restore the given one (default: the one promoted before it)'],
  ] as const) {
    adapters
      .command(action)
      .description(description)
      .argument('<name>', 'the adapter')
      .argument('[version]', 'the version', integer('VERSION'))
      .option('--reason <text>', 'why, kept with the version')
      .option('--json', 'print one JSON object')
      .option('-c, --config <file>', 'YAML config file')
      .action(async (name: string, version: number | undefined, options: CliOptions & { reason?: string }) => {
        process.exitCode = await runAdaptersChange(action, name, version, { ...program.opts<CliOptions>(), ...options });
      });
  }

  const models = program.command('models').description('the models npllm can download and answer with');
  models
    .command('list')
    .description('the catalogue: id, name, size, licence, whether it is downloaded, which one is the default')
    .option('--json', 'print a JSON array')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: CliOptions) => {
      process.exitCode = await runModelsList({ ...program.opts<CliOptions>(), ...options });
    });
  models
    .command('pull')
    .description('download a catalogue model (checksummed; an interrupted download resumes)')
    .argument('<id>', `the model: ${catalogueIds.join(', ')}`)
    .option('--json', 'print one JSON object with the result')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (id: string, options: CliOptions) => {
      process.exitCode = await runModelsPull(id, { ...program.opts<CliOptions>(), ...options });
    });

  program
    .command('learn')
    .description("consolidate a project: train the next version of its stack's adapter, judge it on this and earlier projects, promote it if it earned it")
    .requiredOption('-p, --project <path>', 'the project to learn (its confirmed first stack names the adapter)')
    .option('-a, --adapter <name>', 'train this adapter instead (user: one adapter for everything you do)')
    .option('--max-steps <n>', 'at most this many training steps (learning.maxSteps)', integer('--max-steps'))
    .option('--trainer-threads <n>', 'trainer threads (learning.threads; default: 1 on a busy machine)', integer('--trainer-threads'))
    .option('--json', 'print one JSON object with the result as the last line')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: CliOptions & { project: string; adapter?: string }) => {
      process.exitCode = await runLearn({ ...program.opts<CliOptions>(), ...options });
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
    learning: {
      ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
      ...(options.trainerThreads !== undefined ? { threads: options.trainerThreads } : {}),
    },
  };
  return loadConfig({ file: options.config, overrides });
}

async function runQuery(options: CliOptions): Promise<number> {
  return withEngine(options, { needsModel: true, beforeOpen: async (config) => {
    const question = options.query === '-' ? await readStdin() : (options.query ?? '');
    checkQuestion(question, config.query.maxChars);
    return question;
  } }, async (engine, question, session) => {
    let streamed = false;
    const result = await engine.ask(
      {
        question,
        source: 'cli',
        noCache: !options.cache,
        ...(options.project ? { project: resolve(options.project) } : {}),
        ...(options.replyTo ? { replyTo: options.replyTo } : {}),
        ...(options.adapterChannel ? { adapterChannel: options.adapterChannel } : {}),
      },
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
  /** `needsModel`: the model is checked (and fetched) while the database opens; other commands never touch it. */
  setup: { beforeOpen: (config: Config) => Promise<T>; needsModel?: boolean },
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
    engine = await Engine.open(config, { prepareModel: setup.needsModel === true, onProgress: progress, logger: createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, home: config.home }) });
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
  const adapters = result.adapters.length ? ` · adapters ${result.adapters.map((adapter) => `${adapter.name} v${adapter.version}`).join(', ')}` : '';
  return `[npllm] ${source}${adapters} · ${speed}${cut} · interaction ${result.interactionId}`;
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

async function runContextDetect(path: string, options: { json?: boolean }): Promise<number> {
  try {
    const proposal = await detectContext(await resolveProjectRoot(path));
    if (options.json) process.stdout.write(`${JSON.stringify(proposal)}\n`);
    else process.stdout.write(`${describeStacks(proposal.root, proposal.stacks)}\n`);
    return 0;
  } catch (error) {
    return reportError(toNpllmError(error), options.json === true);
  }
}

async function runContextConfirm(path: string, options: CliOptions & { stack?: string[]; yes?: boolean }): Promise<number> {
  return withEngine(options, { beforeOpen: () => resolveProjectRoot(path) }, async (engine, root) => {
    let choice = options.stack?.map(parseStackChoice);
    if (!choice && !options.yes && process.stdin.isTTY && process.stderr.isTTY) {
      const proposal = await detectContext(root);
      process.stderr.write(`${describeStacks(root, proposal.stacks)}\n`);
      const answer = await ask('Confirm these stacks? [Y]es, or type the ones to keep (name[@version] …): ');
      if (answer.trim() && !/^y(es)?$/i.test(answer.trim())) choice = answer.trim().split(/[\s,]+/).map(parseStackChoice);
    }
    const profile = await engine.context.confirm(root, choice);
    if (options.json) process.stdout.write(`${JSON.stringify(profile)}\n`);
    else process.stderr.write(`[npllm] ${root}: profile version ${profile.version} stored (${profile.stacks.map((stack) => `${stack.name}${stack.version ? ` ${stack.version}` : ''}`).join(', ')})\n`);
  });
}

async function runFeedback(interactionId: string, event: string, options: CliOptions & { value?: number; text?: string; eventId?: string }): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine) => {
    const ack = await engine.handle('feedback/record', {
      interactionId,
      type: event,
      ...(options.value !== undefined ? { value: options.value } : {}),
      ...(options.text !== undefined ? { text: options.text } : {}),
      ...(options.eventId !== undefined ? { eventId: options.eventId } : {}),
    });
    if (options.json) process.stdout.write(`${JSON.stringify(ack)}\n`);
    else {
      const reward = ack.reward.reward === null ? 'none yet' : ack.reward.reward.toFixed(3);
      process.stderr.write(`[npllm] ${ack.duplicate ? 'already recorded' : 'recorded'} ${event} for ${interactionId} · reward ${reward} from ${ack.reward.events} event(s)\n`);
    }
  });
}

type StatsOptions = CliOptions & { days?: number; learning?: boolean; adapter?: string; runs?: number };

async function runStats(options: StatsOptions): Promise<number> {
  if (options.learning) return runLearningStats(options);
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine) => {
    const stats = await engine.stats({ project: options.project === undefined ? undefined : resolve(options.project), days: options.days });
    if (options.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
    else process.stdout.write(`${describeStats(stats)}\n`);
  });
}

async function runLearningStats(options: StatsOptions): Promise<number> {
  return withEngine(
    options,
    {
      beforeOpen: () => {
        const parsed = learningStatsRequestSchema.safeParse({ adapter: options.adapter, runs: options.runs });
        if (!parsed.success) {
          return Promise.reject(new RequestError('REQUEST_INVALID', `Invalid --adapter or --runs: ${describeValidationIssues(parsed.error)}.`, { fix: 'Name an adapter as "npllm adapters list" shows it, and ask for 1 to 500 runs.' }));
        }
        return Promise.resolve(parsed.data);
      },
    },
    async (engine, request) => {
      const stats = await learningStats(engine.database.db, request);
      if (options.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
      else process.stdout.write(`${describeLearningStats(stats)}\n`);
    },
  );
}

async function runDataExport(options: CliOptions & { out?: string }): Promise<number> {
  return withEngine(options, { beforeOpen: () => resolveProjectRoot(options.project!) }, async (engine, root) => {
    const data = await buildTrainingData(engine.database.db, { project: root, acceptThreshold: engine.config.feedback.acceptThreshold });
    const out = options.out ? resolve(options.out) : defaultExportPath(engine.config.home, root);
    await mkdir(dirname(out), { recursive: true });
    await writeJsonl(out, data.examples);
    const summary = { path: out, examples: data.examples.length, byKind: data.byKind, duplicatesDropped: data.duplicatesDropped, secretsScrubbed: data.secretsScrubbed };
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(`${out}\n`);
      process.stderr.write(
        `[npllm] ${summary.examples} examples (${data.byKind.accepted} accepted, ${data.byKind.correction} corrections, ${data.byKind.code} code) · ${summary.duplicatesDropped} duplicates dropped · ${summary.secretsScrubbed} secrets removed\n`,
      );
    }
  });
}

async function runAdaptersList(name: string | undefined, options: CliOptions): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine) => {
    const { items } = await engine.handle('adapters/list', name === undefined ? {} : { name });
    if (options.json) process.stdout.write(`${JSON.stringify(items)}\n`);
    else process.stdout.write(`${describeAdapterTable(items)}\n`);
  });
}

async function runAdaptersChange(action: 'promote' | 'rollback', name: string, version: number | undefined, options: CliOptions & { reason?: string }): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine) => {
    const request = { name, ...(version !== undefined ? { version } : {}), ...(options.reason ? { reason: options.reason } : {}) };
    const change: AdapterChannelChange = await engine.handle(action === 'promote' ? 'adapters/promote' : 'adapters/rollback', request);
    if (options.json) process.stdout.write(`${JSON.stringify(change)}\n`);
    else process.stderr.write(`[npllm] ${name}: v${change.stable.version} is stable${change.archived ? `, v${change.archived.version} archived` : ''}\n`);
  });
}

async function runModelsList(options: CliOptions): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine) => {
    const { items } = await engine.handle('models/list', {});
    if (options.json) {
      process.stdout.write(`${JSON.stringify(items.map(({ id, name, sizeBytes, licence, installed, default: isDefault }) => ({ id, name, sizeBytes, licence, installed, default: isDefault })))}\n`);
      return;
    }
    const rows = [
      ['id', 'name', 'size', 'licence', 'installed', 'default'],
      ...items.map((item) => [item.id, item.name, `${(item.sizeBytes / 1e9).toFixed(2)} GB`, item.licence, item.installed ? 'yes' : 'no', item.default ? '*' : '']),
    ];
    process.stdout.write(`${table(rows, (column) => column === 2)}\n`);
  });
}

async function runModelsPull(id: string, options: CliOptions): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine, _prepared, session) => {
    const pulled = await engine.handle('models/pull', { id }, { signal: session.signal, onProgress: session.progress });
    if (options.json) process.stdout.write(`${JSON.stringify(pulled)}\n`);
    else process.stdout.write(`${pulled.path}\n`);
  });
}

async function runLearn(options: CliOptions & { project: string; adapter?: string }): Promise<number> {
  return withEngine(options, { beforeOpen: () => Promise.resolve() }, async (engine, _prepared, session) => {
    const request = { project: options.project, ...(options.adapter ? { adapter: options.adapter } : {}) };
    const result = await engine.learner.consolidate(request, { signal: session.signal, onProgress: session.progress });
    if (options.json) {
      const { adapter, version, channel, nllBefore, nllAfter, promoted, reason, ...rest } = result;
      process.stdout.write(`${JSON.stringify({ adapter, version, channel, nllBefore, nllAfter, promoted, reason, ...rest })}\n`);
      return;
    }
    const rows = Object.keys(result.nllBefore).map((project) => `  ${project}: ${result.nllBefore[project]!.toFixed(3)} → ${result.nllAfter[project]?.toFixed(3) ?? '–'}`);
    process.stdout.write(
      `${result.adapter} v${result.version} (${result.channel}, from ${result.parentVersion ? `v${result.parentVersion}` : 'the base model'}): ${result.reason}\n` +
        `held-out NLL before → after:\n${rows.join('\n')}\n` +
        `${result.stats.steps} steps, ${result.stats.trainTokens} tokens at ${result.stats.tokensPerSecond.toFixed(1)} tokens/s, ${result.stats.replayTexts} replayed texts, MAS λ ${result.stats.masLambda}, ${(result.stats.durationMs / 1000).toFixed(0)} s\n`,
    );
  });
}

function describeAdapterTable(items: readonly AdapterRecord[]): string {
  if (items.length === 0) return 'No adapters yet: they appear once npllm has learned from your feedback.';
  const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const rows = [
    ['name', 'version', 'channel', 'scope', 'rank', 'alpha', 'size', 'created', 'promoted', 'reason'],
    ...items.map((item) => [item.name, `v${item.version}`, item.channel, item.scope, String(item.rank), String(item.alpha), megabytes(item.bytes), item.createdAt.slice(0, 16).replace('T', ' '), item.promotedAt?.slice(0, 16).replace('T', ' ') ?? '–', item.reason ?? '']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  return rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

function defaultExportPath(home: string, root: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(home, 'exports', `${basename(root) || 'project'}-${stamp}.jsonl`);
}

function parseStackChoice(text: string): { name: string; version?: string } {
  const [name, version] = text.split('@', 2) as [string, string | undefined];
  return { name: name.trim().toLowerCase(), ...(version ? { version: version.trim() } : {}) };
}

function parseNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`--value must be a number, got "${value}".`);
  return parsed;
}

async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

function describeStacks(root: string, stacks: readonly DetectedStack[]): string {
  if (stacks.length === 0) return `${root}: no known stack detected (not a project, or one npllm does not know yet)`;
  return [
    `${root}:`,
    ...stacks.map((stack) => `  ${stack.name}${stack.version ? ` ${stack.version}` : ''} (${Math.round(stack.confidence * 100)}%): ${stack.evidence.slice(0, 3).join('; ')}`),
  ].join('\n');
}

function describeStats(stats: BehaviourStats): string {
  const percent = (value: number | null) => (value === null ? '–' : `${Math.round(value * 100)}%`);
  const number = (value: number | null, digits = 2) => (value === null ? '–' : value.toFixed(digits));
  const row = (label: string, metrics: BehaviourMetrics) =>
    [label, String(metrics.interactions), percent(metrics.acceptanceRate), percent(metrics.regenerateRate), percent(metrics.frustrationRate), number(metrics.meanReward), percent(metrics.cacheHitRate), percent(metrics.retrievalRate), number(metrics.latencyMs.ttftP50, 0), number(metrics.latencyMs.totalP95, 0)];
  const rows = [
    ['', 'asked', 'accepted', 'regenerated', 'frustrated', 'reward', 'cache hits', 'retrieval', 'TTFT p50 ms', 'total p95 ms'],
    row('all', stats.overall),
    ...stats.projects.map((project) => row(project.project ?? '(no project)', project)),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const lines = rows.map((cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '));
  const recent = stats.recentRewards.slice(0, 5).map((item) => `  ${item.reward >= 0 ? '+' : ''}${item.reward.toFixed(2)}  ${item.question.slice(0, 60).replace(/\s+/g, ' ')}  (${item.interactionId})`);
  return [...lines, ...(recent.length ? ['', 'latest rewards:', ...recent] : [])].join('\n');
}

function describeLearningStats(stats: LearningStats): string {
  if (stats.adapters.length === 0) return 'No learning yet: adapters appear once npllm has consolidated a project into one.';
  return stats.adapters.map(describeAdapterLearning).join('\n\n');
}

function describeAdapterLearning(stats: AdapterLearningStats): string {
  const names = shortProjectNames(stats.projects);
  const label = (row: AdapterLearningStats['versions'][number]) => [`v${row.version}`, row.channel, row.project === null ? '' : (names.get(row.project) ?? row.project)];
  const percent = (value: number | null) => (value === null ? '–' : `${value > 0 ? '+' : ''}${(value * 100).toFixed(1)}%`);
  const header = ['version', 'channel', 'learned', ...stats.projects.map((project) => names.get(project)!)];
  const nll = table([header, ...stats.versions.map((row, index) => [...label(row), ...stats.nll[index]!.map((value) => (value === null ? '–' : value.toFixed(3)))])], (column) => column >= 3);
  const gain = table([header, ...stats.versions.slice(1).map((row, index) => [...label(row), ...stats.gain[index + 1]!.map(percent)])], (column) => column >= 3);
  const bwt = stats.bwtVersion === null ? 'no version learned a project yet' : `${stats.bwt === null ? '– (needs two projects learned and measured)' : percent(stats.bwt)} at v${stats.bwtVersion} (mean change of gain on earlier projects since they were learned; below 0 is forgetting)`;
  const legend = stats.projects.filter((project) => names.get(project) !== project).map((project) => `${names.get(project)} = ${project}`);
  return [
    stats.adapter,
    ...(stats.projects.length === 0 ? ['  no held-out evaluations yet'] : [...(legend.length ? [`projects: ${legend.join(' · ')}`] : []), '', 'held-out NLL (lower is better):', nll, '', 'gain over the base model:', gain]),
    '',
    `BWT: ${bwt}`,
    '',
    ...(stats.runs.length === 0 ? ['no training runs yet'] : ['latest runs:', describeRuns(stats.runs, names)]),
  ].join('\n');
}

function describeRuns(runs: readonly LearningRunRecord[], names: ReadonlyMap<string, string>): string {
  const duration = (run: LearningRunRecord) => {
    const ms = run.stats?.['durationMs'] ?? (run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt));
    return ms === null ? '–' : formatDuration(ms);
  };
  const speed = (run: LearningRunRecord) => (run.stats?.['tokensPerSecond'] === undefined ? '–' : run.stats['tokensPerSecond'].toFixed(1));
  const promoted = (run: LearningRunRecord) => (run.promoted === null ? '–' : run.promoted ? 'yes' : 'no');
  const rows = [
    ['started', 'status', 'project', 'version', 'promoted', 'duration', 'tokens/s', 'reason'],
    ...runs.map((run) => [
      run.startedAt.slice(0, 16).replace('T', ' '),
      run.status,
      names.get(run.project) ?? basename(run.project),
      run.version === null ? '–' : `v${run.version}`,
      promoted(run),
      duration(run),
      speed(run),
      run.reason ?? run.error?.message ?? '',
    ]),
  ];
  return table(rows, (column) => column === 5 || column === 6);
}

/** Numbers right-aligned, so their decimals line up; text left-aligned. */
function table(rows: readonly string[][], numeric: (column: number) => boolean): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0)));
  return rows.map((cells) => cells.map((cell, column) => (numeric(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
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
