/**
 * Answer quality through the product: every question goes through `Engine.ask` with the product's
 * system prompt, as a user's would, and is judged by running its code.
 *
 *  1. HumanEval pass@1 (greedy: temperature 0, all 164 problems), asked as "Complete this Python
 *     function:" with the problem in a fence; the code is taken from the answer's fenced blocks
 *     and run with the problem's `check(candidate)` in a sandboxed python3 (quality-sandbox.ts).
 *  2. Everyday questions in Brazilian Portuguese and English (quality-questions.ts): code run
 *     against asserts, SQL rows compared, Odoo/Django models parsed; the prose must be in the
 *     question's language.
 *
 *   node dist/bench/quality.js [--models coder-1.5b,coder-0.5b] [--limit N] [--threads 1]
 *        [--max-tokens 512] [--suite humaneval,everyday] [--timeout 10] [--system-prompt TEXT] [--out DIR]
 *
 * Each model runs in a fresh engine opened with `model.name` = its catalogue id (temporary
 * NPLLM_HOME, embedded PGlite, response cache off, no environment settings). Answers and verdicts go to DIR (default .cache/bench-quality/) as
 * JSONL for reading failures. Progress on stderr; tables on stdout; the last stdout line is JSON.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../electron/engine/config/config.js';
import { Engine } from '../electron/engine/engine.js';
import { catalogue, findCatalogueEntry, type CatalogueEntry } from '../electron/engine/model/catalogue.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import type { AskResponse } from '../shared/contract.js';
import { loadAverage, otherCpuMeter, positiveIntFlag, progress, round, table } from './measure.js';
import { checkEveryday, type EverydayResult } from './quality-everyday.js';
import { checkHumanEval, humanEvalQuestion, loadProblems, publishedPassAt1, sharedCache, type Problem } from './quality-humaneval.js';
import { everydayQuestions, type EverydayQuestion } from './quality-questions.js';
import type { SandboxLimits, Verdict } from './quality-sandbox.js';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string' },
    limit: { type: 'string' },
    threads: { type: 'string' },
    'max-tokens': { type: 'string' },
    suite: { type: 'string' },
    timeout: { type: 'string' },
    'system-prompt': { type: 'string' },
    out: { type: 'string' },
  },
});

const modelIds = (flags.models ?? catalogue.map((entry) => entry.id).join(','))
  .split(',')
  .map((id) => id.trim())
  .filter(Boolean);
for (const id of modelIds) {
  if (!findCatalogueEntry(id)) throw new Error(`--models: unknown model "${id}"; the catalogue has ${catalogue.map((entry) => entry.id).join(', ')}.`);
}
const suites = new Set((flags.suite ?? 'humaneval,everyday').split(',').map((suite) => suite.trim()));
for (const suite of suites)
  if (suite !== 'humaneval' && suite !== 'everyday') throw new Error(`--suite: unknown suite "${suite}"; use humaneval, everyday or both.`);
const limit = flags.limit === undefined ? undefined : positiveIntFlag('limit', flags.limit, 164);
// On a 2-core machine shared with other work, llama.cpp with 2 threads is far slower than with 1
// (BENCHMARKS.md, thread count): 1 unless the machine is idle.
const threads = positiveIntFlag('threads', flags.threads, 1);
const maxTokens = positiveIntFlag('max-tokens', flags['max-tokens'], 512);
const limits: SandboxLimits = { timeoutSeconds: positiveIntFlag('timeout', flags.timeout, 10), memoryMb: 1024 };
const outDir = resolve(flags.out ?? join(packageRoot, '.cache', 'bench-quality'));

/**
 * The models folder that holds the entry's file: NPLLM_MODELS_DIR, the shared cache, or the clone's
 * older fixture cache. Failing all three, the shared cache, where the engine fetches it (as it would
 * for a user), with its progress on stderr.
 */
function modelsFolder(entry: CatalogueEntry): string {
  const folders = [process.env['NPLLM_MODELS_DIR'], join(sharedCache(), 'models'), join(packageRoot, '.cache', 'models')].filter((folder): folder is string =>
    Boolean(folder),
  );
  return folders.find((folder) => existsSync(join(folder, entry.fileName))) ?? join(sharedCache(), 'models');
}

interface Generated {
  answer: string;
  tokens: number;
  /** Generation time without the model load (which only the first question pays). */
  seconds: number;
  decodeSeconds: number;
  finishReason: AskResponse['finishReason'];
}

interface HumanEvalRow extends Generated {
  taskId: string;
  kind: string;
  verdict: Verdict;
  detail: string;
  /** The answer ended inside the code; what parsed before the cut was run. */
  salvaged: boolean;
}

interface EverydayRow extends Generated {
  id: string;
  language: 'pt' | 'en';
  category: string;
  result: EverydayResult;
}

interface ModelReport {
  id: string;
  name: string;
  loadSeconds: number;
  humaneval: HumanEvalRow[];
  everyday: EverydayRow[];
}

async function ask(engine: Engine, question: string): Promise<Generated & { loadMs: number }> {
  const response = await engine.ask({ question, maxTokens, source: 'bench', noCache: true, replyTo: null });
  const { totalMs, ttftMs, loadMs, tokens } = response.timings;
  return {
    answer: response.answer,
    tokens,
    seconds: (totalMs - loadMs) / 1000,
    decodeSeconds: Math.max(0, totalMs - ttftMs) / 1000,
    finishReason: response.finishReason,
    loadMs,
  };
}

function eta(done: number, total: number, elapsedSeconds: number): string {
  if (done === 0) return '?';
  const seconds = ((total - done) * elapsedSeconds) / done;
  return seconds >= 90 ? `${round(seconds / 60)} min` : `${Math.round(seconds)} s`;
}

async function runModel(
  entry: CatalogueEntry,
  problems: readonly Problem[],
  questions: readonly EverydayQuestion[],
  systemPrompt: string | undefined,
): Promise<ModelReport> {
  const home = mkdtempSync(join(tmpdir(), 'npllm-bench-quality-'));
  const report: ModelReport = { id: entry.id, name: entry.name, loadSeconds: 0, humaneval: [], everyday: [] };
  try {
    const config = loadConfig({
      env: {},
      overrides: {
        home,
        log: { level: 'warn' },
        database: { url: null, dir: null },
        cache: { enabled: false },
        model: {
          name: entry.id,
          path: null,
          cacheDir: modelsFolder(entry),
          threads,
          maxTokens,
          temperature: 0,
          ...(systemPrompt === undefined ? {} : { systemPrompt }),
        },
      },
    });
    let lastLabel = '';
    const engine = await Engine.open(config, {
      // A download (a model missing from every cache) reports its progress; loading only its end.
      onProgress: ({ task, label, fraction, done }) => {
        if (task === 'model-load' && !done) return;
        const line = `${label}${fraction === null ? '' : ` ${Math.round(fraction * 100)}%`}`;
        if (line !== lastLabel) progress(`${entry.id}: ${line}`);
        lastLabel = line;
      },
    });
    try {
      const { path } = await engine.model.identify();
      progress(`${entry.id}: ${path}, ${threads} thread(s), maxTokens ${maxTokens}, temperature 0, load average ${loadAverage()}`);
      const heFile = join(outDir, `${entry.id}-humaneval.jsonl`);
      const edFile = join(outDir, `${entry.id}-everyday.jsonl`);
      if (problems.length) writeFileSync(heFile, '');
      if (questions.length) writeFileSync(edFile, '');

      let started = performance.now();
      for (const [index, problem] of problems.entries()) {
        const generated = await ask(engine, humanEvalQuestion(problem));
        report.loadSeconds += generated.loadMs / 1000;
        const checked = await checkHumanEval(problem, generated.answer, limits);
        const row: HumanEvalRow = {
          taskId: problem.taskId,
          ...withoutLoad(generated),
          kind: checked.kind,
          verdict: checked.verdict,
          detail: checked.detail,
          salvaged: checked.salvaged ?? false,
        };
        report.humaneval.push(row);
        appendFileSync(heFile, `${JSON.stringify(row)}\n`);
        const passed = report.humaneval.filter((r) => r.verdict === 'pass').length;
        progress(
          `${entry.id} humaneval ${index + 1}/${problems.length} ${problem.taskId} ${row.verdict}${row.finishReason === 'stop' ? '' : ` (${row.finishReason})`}, ${row.tokens} tok ${round(row.seconds)} s; pass ${passed}/${index + 1} (${round((100 * passed) / (index + 1))}%); ETA ${eta(index + 1, problems.length, (performance.now() - started) / 1000)}`,
        );
      }

      started = performance.now();
      for (const [index, question] of questions.entries()) {
        const generated = await ask(engine, question.question);
        report.loadSeconds += generated.loadMs / 1000;
        const result = await checkEveryday(question, generated.answer, limits);
        const row: EverydayRow = { id: question.id, language: question.language, category: question.category, ...withoutLoad(generated), result };
        report.everyday.push(row);
        appendFileSync(edFile, `${JSON.stringify(row)}\n`);
        progress(
          `${entry.id} everyday ${index + 1}/${questions.length} ${question.id}: code ${result.code.verdict}${result.code.verdict === 'pass' ? '' : ` (${result.code.detail})`}, language ${result.language.found} (pt ${result.language.pt}/en ${result.language.en}); ETA ${eta(index + 1, questions.length, (performance.now() - started) / 1000)}`,
        );
      }
    } finally {
      await engine.dispose();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return report;
}

function withoutLoad(generated: Generated & { loadMs: number }): Generated {
  const { loadMs: _loadMs, ...rest } = generated;
  return rest;
}

const failureKinds: readonly Verdict[] = ['no-code', 'syntax', 'assertion', 'runtime', 'timeout'];

function generationStats(rows: readonly Generated[]): { meanTokens: number; meanSeconds: number; tokensPerSecond: number } {
  const sum = (pick: (row: Generated) => number) => rows.reduce((total, row) => total + pick(row), 0);
  const decode = sum((row) => row.decodeSeconds);
  return {
    meanTokens: rows.length ? round(sum((row) => row.tokens) / rows.length) : 0,
    meanSeconds: rows.length ? round(sum((row) => row.seconds) / rows.length, 2) : 0,
    tokensPerSecond: decode > 0 ? round(sum((row) => Math.max(0, row.tokens - 1)) / decode) : 0,
  };
}

function summariseHumanEval(report: ModelReport) {
  const rows = report.humaneval;
  const passed = rows.filter((row) => row.verdict === 'pass').length;
  const failures = Object.fromEntries(failureKinds.map((kind) => [kind, rows.filter((row) => row.verdict === kind).length]));
  const finish = {
    length: rows.filter((row) => row.finishReason === 'length').length,
    repetition: rows.filter((row) => row.finishReason === 'repetition').length,
  };
  const extraction = {
    function: rows.filter((row) => row.kind === 'function').length,
    body: rows.filter((row) => row.kind === 'body').length,
    none: rows.filter((row) => row.kind === 'none').length,
  };
  const salvagedPasses = rows.filter((row) => row.salvaged && row.verdict === 'pass').length;
  return {
    passAt1: rows.length ? round(passed / rows.length, 3) : 0,
    passed,
    count: rows.length,
    failures,
    finish,
    extraction,
    salvagedPasses,
    ...generationStats(rows),
  };
}

function tally(rows: readonly EverydayRow[]): { passed: number; total: number; code: number; language: number } {
  return {
    passed: rows.filter((row) => row.result.passed).length,
    total: rows.length,
    code: rows.filter((row) => row.result.code.verdict === 'pass').length,
    language: rows.filter((row) => row.result.language.ok).length,
  };
}

function summariseEveryday(report: ModelReport) {
  const rows = report.everyday;
  const group = (key: (row: EverydayRow) => string) =>
    Object.fromEntries([...new Set(rows.map(key))].map((value) => [value, tally(rows.filter((row) => key(row) === value))]));
  return { ...tally(rows), byLanguage: group((row) => row.language), byCategory: group((row) => row.category), ...generationStats(rows) };
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const problems = suites.has('humaneval') ? loadProblems(progress).slice(0, limit) : [];
  const questions = suites.has('everyday') ? everydayQuestions : [];
  const systemPrompt = flags['system-prompt'];
  const promptUsed = systemPrompt ?? loadConfig({ env: {} }).model.systemPrompt;
  const loadAtStart = loadAverage();
  const otherCpu = otherCpuMeter();
  const startedAt = new Date();
  progress(
    `${problems.length} HumanEval problem(s), ${questions.length} everyday question(s), models ${modelIds.join(', ')}; system prompt: ${JSON.stringify(promptUsed)}; answers in ${outDir}`,
  );

  const reports: ModelReport[] = [];
  for (const id of modelIds) reports.push(await runModel(findCatalogueEntry(id)!, problems, questions, systemPrompt));
  const otherCpuCores = otherCpu();
  const loadAtEnd = loadAverage();

  const humaneval = Object.fromEntries(reports.map((report) => [report.id, summariseHumanEval(report)]));
  const everyday = Object.fromEntries(reports.map((report) => [report.id, summariseEveryday(report)]));

  if (problems.length) {
    console.log(`\nHumanEval pass@1, greedy, ${problems.length} problem(s), ${threads} thread(s), maxTokens ${maxTokens}\n`);
    console.log(
      table(
        [
          'model',
          'passAt1',
          'published (bf16)',
          'count',
          'mean tokens',
          'mean s/problem',
          'tok/s',
          'no-code',
          'syntax',
          'assertion',
          'runtime',
          'timeout',
          'cut at maxTokens',
          'repetition stop',
        ],
        reports.map((report) => {
          const s = humaneval[report.id]!;
          const published = publishedPassAt1[report.id];
          return [
            report.id,
            s.passAt1,
            published === null || published === undefined ? '—' : published,
            s.count,
            s.meanTokens,
            s.meanSeconds,
            s.tokensPerSecond,
            ...failureKinds.map((kind) => s.failures[kind]!),
            s.finish.length,
            s.finish.repetition,
          ];
        }),
      ),
    );
  }
  if (questions.length) {
    console.log(
      `\nEveryday questions (${questions.length}: ${questions.filter((q) => q.language === 'pt').length} pt-BR, ${questions.filter((q) => q.language === 'en').length} en); pass = code check and prose language both right\n`,
    );
    console.log(
      table(
        ['question', ...reports.map((report) => report.id)],
        questions.map((question) => [
          question.id,
          ...reports.map((report) => {
            const row = report.everyday.find((r) => r.id === question.id)!;
            const code = row.result.code.verdict === 'pass' ? 'code ok' : row.result.code.verdict;
            return `${row.result.passed ? 'PASS' : 'fail'} (${code}, ${row.result.language.found})`;
          }),
        ]),
      ),
    );
    console.log('');
    const groups = [...new Set(questions.map((q) => q.language))].map((language) => `lang ${language}`).concat([...new Set(questions.map((q) => q.category))]);
    console.log(
      table(
        ['group (passed/total; code ok; language ok)', ...reports.map((report) => report.id)],
        [
          ['all', ...reports.map((report) => cell(everyday[report.id]!))],
          ...groups.map((group) => [
            group,
            ...reports.map((report) => {
              const s = everyday[report.id]!;
              const t = group.startsWith('lang ') ? s.byLanguage[group.slice(5)] : s.byCategory[group];
              return t ? cell(t) : '—';
            }),
          ]),
        ],
      ),
    );
    for (const report of reports) {
      const failing = report.everyday.filter((row) => !row.result.passed);
      if (!failing.length) continue;
      console.log(`\n${report.id} everyday failures:`);
      for (const row of failing) {
        const why = [
          row.result.code.verdict === 'pass' ? null : `${row.result.code.verdict}: ${row.result.code.detail}`,
          row.result.language.ok ? null : `prose ${row.result.language.found} (pt ${row.result.language.pt}, en ${row.result.language.en})`,
        ];
        console.log(`  ${row.id}: ${why.filter(Boolean).join('; ')}`);
      }
    }
  }

  const summary = {
    passAt1: Object.fromEntries(reports.map((report) => [report.id, humaneval[report.id]!.passAt1])),
    published: Object.fromEntries(reports.map((report) => [report.id, publishedPassAt1[report.id] ?? null])),
    everyday: Object.fromEntries(
      reports.map((report) => {
        const s = everyday[report.id]!;
        return [report.id, { passed: s.passed, total: s.total, code: s.code, language: s.language, byLanguage: s.byLanguage, byCategory: s.byCategory }];
      }),
    ),
    humaneval: Object.fromEntries(
      reports.map((report) => {
        const s = humaneval[report.id]!;
        return [
          report.id,
          {
            passed: s.passed,
            count: s.count,
            failures: s.failures,
            finish: s.finish,
            extraction: s.extraction,
            salvagedPasses: s.salvagedPasses,
            meanTokens: s.meanTokens,
            meanSeconds: s.meanSeconds,
            tokensPerSecond: s.tokensPerSecond,
          },
        ];
      }),
    ),
    modelLoadSeconds: Object.fromEntries(reports.map((report) => [report.id, round(report.loadSeconds, 1)])),
    problems: problems.length,
    questions: questions.length,
    threads,
    maxTokens,
    temperature: 0,
    sandboxTimeoutSeconds: limits.timeoutSeconds,
    systemPrompt: promptUsed,
    startedAt: startedAt.toISOString(),
    minutes: round((Date.now() - startedAt.getTime()) / 60_000),
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    otherCpuCores,
  };
  console.log(JSON.stringify(summary));
}

function cell(t: { passed: number; total: number; code: number; language: number }): string {
  return `${t.passed}/${t.total}; ${t.code}; ${t.language}`;
}

await main();
