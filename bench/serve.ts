/**
 * Does the engine cost anything on top of llama.cpp? In one process, the same prompts run through
 * bare node-llama-cpp and through Engine.ask (noCache, so the model really runs), alternating per
 * prompt so drift in machine load hits both alike. Decode speed is set against the memory-bound
 * limit (model bytes ÷ measured read bandwidth). Then project questions with retrieval (time to
 * first token with the retrieved code in the prompt), the response cache (hits must take
 * milliseconds) and the memory of the default stack. The last stdout line is the JSON summary.
 *
 *   node --expose-gc dist/bench/serve.js [--rounds 3] [--max-tokens 128] [--cache-hits 100] [--threads N] [--project-rounds 2]
 *
 * NPLLM_THREADS, NPLLM_CONTEXT_SIZE, NPLLM_MODEL and NPLLM_MODELS_DIR are honoured as by npllm.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getLlama, LlamaChatSession, LlamaLogLevel, resolveChatWrapper, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import { loadConfig, type Config } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { fixtureModelsDir, tempHome } from '../electron/engine/test/support.js';
import {
  bareGenerate,
  loadAverage,
  median,
  otherCpuMeter,
  percentile,
  positiveIntFlag,
  progress,
  prompts,
  readBandwidthGBps,
  round,
  rssMb,
  sample,
  table,
  type BareSettings,
  type Sample,
} from './measure.js';

/** RSS: the model file plus 1.2 GB for everything else (engine, PGlite, KV cache, embedder). */
const targets = { tokensPerSecondRatio: 0.97, cacheHitMs: 5, rssOverModelMb: 1229, projectTtftP50Ms: 8000 };

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'max-tokens': { type: 'string' },
    'cache-hits': { type: 'string' },
    threads: { type: 'string' },
    'project-rounds': { type: 'string' },
  },
});
const rounds = positiveIntFlag('rounds', flags.rounds, 3);
const maxTokens = positiveIntFlag('max-tokens', flags['max-tokens'], 128);
const cacheHits = positiveIntFlag('cache-hits', flags['cache-hits'], 100);
const threadsFlag = flags.threads === undefined ? undefined : positiveIntFlag('threads', flags.threads, 1);
const projectRounds = positiveIntFlag('project-rounds', flags['project-rounds'], 2);

/**
 * Questions about Python's own json and email packages (on every machine that has python3), each
 * naming what it asks about, as a user asking about their project does: the gate retrieves.
 */
const projectQuestions = [
  'How does py_scanstring in json/decoder.py decode backslash escapes?',
  'Where does JSONEncoder.iterencode detect circular references?',
  'What does make_scanner in json/scanner.py return?',
  'How does decode_header in email/header.py split encoded words?',
  'How does FeedParser in email/feedparser.py find multipart boundaries?',
  'What does formataddr in email/utils.py do with a non-ASCII name?',
];

interface Side {
  name: 'bare' | 'engine';
  run(question: string): Promise<Sample>;
}

async function main(): Promise<void> {
  const home = tempHome('npllm-bench-');
  try {
    const config = loadConfig({
      env: { ...process.env, NPLLM_MODELS_DIR: process.env['NPLLM_MODELS_DIR'] ?? fixtureModelsDir },
      overrides: {
        home: home.home,
        // The default stack is what is measured: embedded PGlite with the response cache on.
        database: { url: null, dir: null },
        cache: { enabled: true },
        ...(threadsFlag === undefined ? {} : { model: { threads: threadsFlag } }),
      },
    });
    await run(config);
  } finally {
    home.cleanup();
  }
}

async function run(config: Config): Promise<void> {
  // Before anything big is in memory: the buffers take 1 GB for a moment.
  const bandwidthGBps = readBandwidthGBps();
  globalThis.gc?.();
  progress(`memory read bandwidth (one thread): ${round(bandwidthGBps, 2)} GB/s`);
  const engineOpenStart = performance.now();
  const engine = await Engine.open(config);
  const engineOpenMs = performance.now() - engineOpenStart;
  const { threads } = engine.model;
  const settings: BareSettings = { systemPrompt: config.model.systemPrompt, maxTokens, temperature: config.model.temperature };
  progress(
    `engine open in ${round(engineOpenMs)} ms; model ${engine.model.displayName}, ${threads} thread(s), context ${config.model.contextSize}, maxTokens ${maxTokens}, load average ${loadAverage()}`,
  );

  const engineSide: Side = {
    name: 'engine',
    run: async (question) => {
      const startedAt = performance.now();
      let firstTextAt: number | undefined;
      const response = await engine.ask(
        { question, maxTokens, source: 'bench', noCache: true },
        {
          onToken: () => {
            firstTextAt ??= performance.now();
          },
        },
      );
      return sample(startedAt, firstTextAt, performance.now(), response.timings.tokens);
    },
  };

  // The engine loads its model lazily, so its warm-up is also its load; measured before the bare
  // model exists, this is the memory of the default stack alone.
  const engineWarmup = await engine.ask({ question: prompts[0]!, maxTokens, source: 'bench', noCache: true });
  const rssEngineOnlyMb = rssMb();
  progress(`engine warm-up: model load ${round(engineWarmup.timings.loadMs)} ms, ${engineWarmup.timings.tokens} tokens; RSS ${rssEngineOnlyMb} MB`);

  const { path } = await engine.model.identify();
  const bareLoadStart = performance.now();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  // Read like the engine reads it (model.mmap), so both hold the same weights the same way.
  const bareModel = await llama.loadModel({ modelPath: path, useMmap: config.model.mmap });
  const context = await bareModel.createContext({ contextSize: config.model.contextSize, threads, sequences: 1 });
  const sequence: LlamaContextSequence = context.getSequence();
  const bareLoadMs = performance.now() - bareLoadStart;
  const setupTimes: number[] = [];
  const bareSide: Side = {
    name: 'bare',
    run: async (question) => {
      const result = await bareGenerate(sequence, question, settings);
      setupTimes.push(result.setupMs);
      return result;
    },
  };
  const bareWarmup = await bareGenerate(sequence, prompts[0]!, settings);
  progress(`bare node-llama-cpp: load ${round(bareLoadMs)} ms, warm-up ${bareWarmup.tokens} tokens`);

  const samples: Record<Side['name'], Sample[][]> = { bare: prompts.map(() => []), engine: prompts.map(() => []) };
  const otherCpu = otherCpuMeter();
  for (let r = 0; r < rounds; r++) {
    for (const [index, question] of prompts.entries()) {
      // Whoever runs second finds the CPU caches warmer; swapping the order each time cancels that out.
      const order = (r + index) % 2 === 0 ? [bareSide, engineSide] : [engineSide, bareSide];
      for (const side of order) {
        globalThis.gc?.();
        const result = await side.run(question);
        samples[side.name][index]!.push(result);
        progress(
          `round ${r + 1}/${rounds} prompt ${index + 1}/${prompts.length} ${side.name.padEnd(6)} ttft ${round(result.ttftMs)} ms, ${result.tokens} tokens, ${round(result.tokensPerSecond)} tok/s`,
        );
      }
    }
  }

  const otherCpuCores = otherCpu();
  const all = (name: Side['name'], pick: (s: Sample) => number) => samples[name].flat().map(pick);
  const bareTps = median(all('bare', (s) => s.tokensPerSecond));
  const engineTps = median(all('engine', (s) => s.tokensPerSecond));
  const bareTtft = median(all('bare', (s) => s.ttftMs));
  const engineTtft = median(all('engine', (s) => s.ttftMs));
  // Pairs ran back to back on the same prompt, so per-pair comparisons shed most of the drift.
  const pairs = samples.engine.flatMap((runs, p) => runs.map((run, i) => ({ engine: run, bare: samples.bare[p]![i]! })));
  const pairedRatio = median(pairs.map((pair) => pair.engine.tokensPerSecond / pair.bare.tokensPerSecond));
  const pairedTtftOverhead = median(pairs.map((pair) => pair.engine.ttftMs - pair.bare.ttftMs));

  console.log(`\nGeneration, ${threads} thread(s), maxTokens ${maxTokens}, medians of ${rounds} round(s)\n`);
  console.log(
    table(
      ['prompt', 'bare tok/s', 'engine tok/s', 'bare TTFT ms', 'engine TTFT ms', 'bare tokens', 'engine tokens'],
      prompts.map((question, p) => {
        const bare = samples.bare[p]!;
        const eng = samples.engine[p]!;
        return [
          `${p + 1}. ${question.split('\n')[0]!.slice(0, 40)}`,
          round(median(bare.map((s) => s.tokensPerSecond))),
          round(median(eng.map((s) => s.tokensPerSecond))),
          round(median(bare.map((s) => s.ttftMs))),
          round(median(eng.map((s) => s.ttftMs))),
          median(bare.map((s) => s.tokens)),
          median(eng.map((s) => s.tokens)),
        ];
      }),
    ),
  );
  console.log(
    `\nall prompts: bare ${round(bareTps)} tok/s, engine ${round(engineTps)} tok/s (ratio ${round(engineTps / bareTps, 3)}); TTFT bare ${round(bareTtft)} ms, engine ${round(engineTtft)} ms`,
  );
  console.log(`pair by pair (medians): engine/bare tok/s ${round(pairedRatio, 3)}, engine - bare TTFT ${round(pairedTtftOverhead, 1)} ms`);
  console.log(`other processes used ${otherCpuCores} core(s) on average meanwhile`);
  const sessionSetupMs = median(setupTimes);
  const resolvedSetupMs = sessionSetupWithResolvedWrapper(bareModel, sequence);
  console.log(
    `new LlamaChatSession() takes ${round(sessionSetupMs)} ms of every TTFT above (it resolves the chat template each time); ` +
      `with the chat wrapper resolved once and passed in: ${round(resolvedSetupMs, 2)} ms`,
  );

  const modelBytes = statSync((await engine.model.identify()).path).size;
  // Decoding reads every weight once per token: model bytes ÷ bandwidth is the floor of a token's time.
  const decodeLimit = (bandwidthGBps * 1e9) / modelBytes;
  console.log(
    `\nDecode against the memory-bound limit: ${round(engineTps)} tok/s of ${round(decodeLimit)} possible at ${round(bandwidthGBps, 2)} GB/s for ${round(modelBytes / 1e9, 2)} GB (${round(engineTps / decodeLimit, 2)})`,
  );

  const project = await measureProjectQuestions(engine, config.home);
  console.log(
    `\nProject questions with retrieval (${project.samples.length}, budget ${config.rag.contextTokens} tokens): TTFT p50 ${round(project.ttftP50Ms)} ms, p95 ${round(project.ttftP95Ms)} ms; ` +
      `retrieved in ${project.retrieved} of ${project.samples.length}; prompt tokens p50 ${project.promptTokensP50}, evaluated p50 ${project.evaluatedP50} (${round(project.evalTokensPerSecond)} tok/s)`,
  );

  const cache = await measureCacheHits(engine);
  console.log(
    `\nCache hits: median ${round(cache.medianMs, 2)} ms over ${cacheHits} (min ${round(cache.minMs, 2)}, max ${round(cache.maxMs, 2)}); a PGlite "select 1" takes ${round(cache.pgliteQueryMs, 2)} ms`,
  );

  // Only the engine's stack should be left in memory when it is weighed.
  await llama.dispose();
  globalThis.gc?.();
  const rss = rssMb();
  const maxRssMb = round(process.resourceUsage().maxRSS / 1024);
  console.log(
    `\nRSS: ${rss} MB with the engine, PGlite and the model loaded (${rssEngineOnlyMb} MB before the bare model was ever loaded; peak ${maxRssMb} MB with both)`,
  );

  // A fresh engine pays for identify() (GGUF check + fingerprint) on its first question.
  await engine.dispose();
  const reopened = await Engine.open(config);
  const firstHitStart = performance.now();
  const firstHit = await reopened.ask({ question: cacheQuestion, maxTokens, source: 'bench' });
  const firstAskCacheHitMs = performance.now() - firstHitStart;
  const modelStayedUnloaded = !reopened.model.isLoaded;
  await reopened.dispose();
  if (!firstHit.cached) throw new Error('The reopened engine missed the response cache.');
  console.log(
    `First question of a freshly opened engine, answered from the cache: ${round(firstAskCacheHitMs, 2)} ms (model stayed unloaded: ${modelStayedUnloaded})`,
  );

  const summary = {
    tokensPerSecondRatio: round(engineTps / bareTps, 3),
    ttftOverheadMs: round(engineTtft - bareTtft, 2),
    cacheHitMs: round(cache.medianMs, 2),
    rssMb: rss,
    modelMb: round(modelBytes / 1024 / 1024),
    bandwidthGBps: round(bandwidthGBps, 2),
    decodeLimitTokensPerSecond: round(decodeLimit, 1),
    decodeShareOfLimit: round(engineTps / decodeLimit, 3),
    projectTtftP50Ms: round(project.ttftP50Ms),
    projectTtftP95Ms: round(project.ttftP95Ms),
    projectRetrieved: project.retrieved,
    projectQuestions: project.samples.length,
    projectPromptTokensP50: project.promptTokensP50,
    projectEvaluatedTokensP50: project.evaluatedP50,
    promptEvalTokensPerSecond: round(project.evalTokensPerSecond, 1),
    ragContextTokens: config.rag.contextTokens,
    bareTokensPerSecond: round(bareTps),
    engineTokensPerSecond: round(engineTps),
    pairedTokensPerSecondRatio: round(pairedRatio, 3),
    pairedTtftOverheadMs: round(pairedTtftOverhead, 2),
    bareTtftMs: round(bareTtft),
    engineTtftMs: round(engineTtft),
    firstAskCacheHitMs: round(firstAskCacheHitMs, 2),
    pgliteQueryMs: round(cache.pgliteQueryMs, 3),
    chatSessionSetupMs: round(sessionSetupMs),
    chatSessionSetupResolvedWrapperMs: round(resolvedSetupMs, 2),
    otherCpuCores,
    rssEngineOnlyMb,
    maxRssMb,
    engineOpenMs: round(engineOpenMs),
    engineModelLoadMs: round(engineWarmup.timings.loadMs),
    threads,
    contextSize: config.model.contextSize,
    maxTokens,
    temperature: config.model.temperature,
    prompts: prompts.length,
    rounds,
    cacheHits,
    model: engine.model.displayName,
    loadAverage: loadAverage(),
    targetsMet: {
      tokensPerSecondRatio: engineTps / bareTps >= targets.tokensPerSecondRatio,
      cacheHitMs: cache.medianMs <= targets.cacheHitMs,
      rssMb: rss <= modelBytes / 1024 / 1024 + targets.rssOverModelMb,
      projectTtftP50Ms: project.ttftP50Ms <= targets.projectTtftP50Ms,
    },
  };
  console.log(JSON.stringify(summary));
}

const cacheQuestion = 'How do I reverse a list in Python?';

interface ProjectSample {
  ttftMs: number;
  used: boolean;
  promptTokens: number;
  evaluated: number;
}

/**
 * Indexes a copy of Python's json and email packages, then asks about them the way the CLI does
 * (noCache, a short answer: what is measured is the time to the first token, which is retrieval
 * plus evaluating the retrieved code).
 */
async function measureProjectQuestions(
  engine: Engine,
  home: string,
): Promise<{
  samples: ProjectSample[];
  ttftP50Ms: number;
  ttftP95Ms: number;
  retrieved: number;
  promptTokensP50: number;
  evaluatedP50: number;
  evalTokensPerSecond: number;
}> {
  const root = join(home, 'project');
  mkdirSync(root, { recursive: true });
  const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], { encoding: 'utf8' }).trim();
  for (const name of ['json', 'email']) cpSync(join(stdlib, name), join(root, name), { recursive: true, filter: (path) => !path.includes('__pycache__') });
  const indexed = await engine.rag.index(root);
  progress(`indexed ${indexed.files} files, ${indexed.chunks} chunks of Python's json and email packages`);
  const samples: ProjectSample[] = [];
  for (let r = 0; r < projectRounds; r++) {
    for (const question of projectQuestions) {
      const startedAt = performance.now();
      let firstTextAt: number | undefined;
      const response = await engine.ask(
        { question, project: root, maxTokens: 16, source: 'bench', noCache: true },
        { onToken: () => (firstTextAt ??= performance.now()) },
      );
      const result = {
        ttftMs: (firstTextAt ?? performance.now()) - startedAt,
        used: response.retrieval.used,
        promptTokens: response.timings.promptTokens,
        evaluated: response.timings.evaluatedPromptTokens ?? 0,
      };
      samples.push(result);
      progress(
        `project question ${samples.length}/${projectRounds * projectQuestions.length}: ttft ${round(result.ttftMs)} ms, retrieved ${result.used ? response.retrieval.sources.length : 0} chunks, ${result.evaluated} of ${result.promptTokens} prompt tokens evaluated`,
      );
    }
  }
  const ttfts = samples.map((sample) => sample.ttftMs);
  const evaluatedTotal = samples.reduce((sum, sample) => sum + sample.evaluated, 0);
  return {
    samples,
    ttftP50Ms: median(ttfts),
    ttftP95Ms: percentile(ttfts, 0.95),
    retrieved: samples.filter((sample) => sample.used).length,
    promptTokensP50: median(samples.map((sample) => sample.promptTokens)),
    evaluatedP50: median(samples.map((sample) => sample.evaluated)),
    evalTokensPerSecond: evaluatedTotal / (ttfts.reduce((sum, ms) => sum + ms, 0) / 1000),
  };
}

async function measureCacheHits(engine: Engine): Promise<{ medianMs: number; minMs: number; maxMs: number; pgliteQueryMs: number }> {
  const miss = await engine.ask({ question: cacheQuestion, maxTokens, source: 'bench' });
  if (miss.cached) throw new Error('The cache answered a question it cannot have seen.');
  // The first hits compile the hit path and warm PGlite's plan cache; a long-running engine is past that.
  const warmup = 10;
  const times: number[] = [];
  for (let i = 0; i < warmup + cacheHits; i++) {
    const started = performance.now();
    const hit = await engine.ask({ question: cacheQuestion, maxTokens, source: 'bench' });
    const elapsed = performance.now() - started;
    if (!hit.cached) throw new Error('Expected a cache hit.');
    if (i >= warmup) times.push(elapsed);
  }
  const pings: number[] = [];
  for (let i = 0; i < cacheHits; i++) {
    const started = performance.now();
    await engine.database.ping();
    pings.push(performance.now() - started);
  }
  return { medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), pgliteQueryMs: median(pings) };
}

/**
 * LocalModel builds a LlamaChatSession per request without a chat wrapper, so node-llama-cpp
 * resolves one from the GGUF's template every time; this is what resolving it once would cost.
 */
function sessionSetupWithResolvedWrapper(model: LlamaModel, sequence: LlamaContextSequence): number {
  const chatWrapper = resolveChatWrapper(model);
  if (!chatWrapper) return Number.NaN;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false, chatWrapper });
    times.push(performance.now() - started);
    session.dispose({ disposeSequence: false });
  }
  return median(times);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
