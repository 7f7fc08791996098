/**
 * The emotion scorer (electron/engine/feedback/emotion) on a labelled set of next-turn messages:
 * a confusion matrix per language (stdout), some misclassified messages with the cues that fired
 * (stderr), per-message latency, and as the last stdout line the JSON summary.
 *
 *   node dist/bench/emotion.js [--set bench/emotion-eval.jsonl] [--repeat 20] [--show 12]
 *
 * --set is resolved against the package folder. Each message is scored --repeat times after a
 * warm-up pass and its latency is the mean of those runs; p50/p95 are over messages. The
 * baseline, in the same process, is wink-tokenizer alone on the same prose: what the scorer
 * adds on top of the library it is built on.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NpllmError } from '../shared/errors.js';
import {
  classMetrics,
  confusionMatrix,
  emotionLabels,
  loadEmotionSet,
  type ClassMetrics,
  type EmotionExample,
} from '../electron/engine/feedback/emotion/evaluate.js';
import { scoreEmotion, type EmotionLabel, type EmotionScore } from '../electron/engine/feedback/emotion/score.js';
import { prepareText } from '../electron/engine/feedback/emotion/text.js';
import { tokenizeLines } from '../electron/engine/feedback/emotion/tokens.js';
import { packageRoot } from '../electron/engine/base/paths.js';
import { loadAverage, median, percentile, positiveIntFlag, progress, round, table } from './measure.js';

const targetFrustrationF1 = 0.85;

const { values: flags } = parseArgs({ options: { set: { type: 'string' }, repeat: { type: 'string' }, show: { type: 'string' } } });
const setPath = resolve(packageRoot, flags.set ?? 'bench/emotion-eval.jsonl');
const repeat = positiveIntFlag('repeat', flags.repeat, 20);
const show = positiveIntFlag('show', flags.show, 12);

interface Scored {
  example: EmotionExample;
  score: EmotionScore;
}

type Report = Record<EmotionLabel, ClassMetrics>;

/** Untimed passes first, enough calls for V8 to optimise the scorer: the steady state is what a user meets. */
const warmUpCalls = 5000;

/** Mean microseconds per call of `run` on each input, after the warm-up. */
function timePerInput<T>(inputs: readonly T[], run: (input: T) => unknown): number[] {
  for (let i = 0; i < Math.max(warmUpCalls, inputs.length); i += 1) run(inputs[i % inputs.length]!);
  return inputs.map((input) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < repeat; i += 1) run(input);
    return Number(process.hrtime.bigint() - started) / 1000 / repeat;
  });
}

function report(scored: readonly Scored[]): Report {
  return classMetrics(confusionMatrix(scored.map(({ example, score }) => ({ truth: example.label, predicted: score.label }))));
}

function matrixTable(title: string, scored: readonly Scored[]): string {
  const matrix = confusionMatrix(scored.map(({ example, score }) => ({ truth: example.label, predicted: score.label })));
  const metrics = classMetrics(matrix);
  const rows = emotionLabels.map((truth) => [
    truth,
    ...emotionLabels.map((predicted) => matrix[truth][predicted]),
    metrics[truth].precision,
    metrics[truth].recall,
    metrics[truth].f1,
  ]);
  return `${title} (${scored.length} messages; rows: truth, columns: predicted)\n${table(['', ...emotionLabels, 'precision', 'recall', 'f1'], rows)}`;
}

function main(): void {
  const set = relative(packageRoot, setPath).split('\\').join('/');
  let examples: EmotionExample[];
  try {
    examples = loadEmotionSet(setPath);
  } catch (error) {
    if (error instanceof NpllmError) {
      process.stderr.write(`bench/emotion: ${error.describe()}\n`);
      process.exit(1);
    }
    throw error;
  }
  progress(`${examples.length} messages from ${isAbsolute(set) ? setPath : set}; load average ${loadAverage()}`);

  const scored: Scored[] = examples.map((example) => ({
    example,
    score: scoreEmotion(example.text, example.previous === undefined ? {} : { previous: example.previous }),
  }));
  const byLanguage = (lang: 'en' | 'pt') => scored.filter(({ example }) => example.lang === lang);
  for (const [title, part] of [
    ['English', byLanguage('en')],
    ['Portuguese', byLanguage('pt')],
    ['All', scored],
  ] as const) {
    console.log(`${matrixTable(title, part)}\n`);
  }

  const wrong = scored.filter(({ example, score }) => example.label !== score.label);
  process.stderr.write(`misclassified: ${wrong.length} of ${scored.length}${wrong.length > show ? ` (first ${show})` : ''}\n`);
  for (const { example, score } of wrong.slice(0, show)) {
    const text = example.text.replace(/\s+/g, ' ');
    process.stderr.write(
      `  ${example.id} ${example.label} → ${score.label} (f ${score.frustration}, s ${score.satisfaction}) ${JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text)} [${score.cues.join('; ')}]\n`,
    );
  }

  const scorerUs = timePerInput(examples, (example) => scoreEmotion(example.text, example.previous === undefined ? {} : { previous: example.previous }));
  const tokenizerUs = timePerInput(examples, (example) => tokenizeLines(prepareText(example.text).proseLines));
  const large = `${'Traceback line with some text and symbols (x=1); '.repeat(2100)}\nstill broken`;
  const [largeUs] = timePerInput([large], (text) => scoreEmotion(text));
  console.log(
    table(
      ['per message (µs)', 'p50', 'p95'],
      [
        ['scoreEmotion', round(median(scorerUs), 1), round(percentile(scorerUs, 0.95), 1)],
        ['baseline: wink-tokenizer alone', round(median(tokenizerUs), 1), round(percentile(tokenizerUs, 0.95), 1)],
      ],
    ),
  );
  console.log(`a ${Math.round(large.length / 1024)} KB message (capped to its first 2,000 and last 500 characters): ${round(largeUs!, 1)} µs\n`);

  const en = report(byLanguage('en'));
  const pt = report(byLanguage('pt'));
  const summary = {
    set,
    messages: examples.length,
    en,
    pt,
    all: report(scored),
    accuracy: round(scored.filter(({ example, score }) => example.label === score.label).length / scored.length, 3),
    p50Us: round(median(scorerUs), 1),
    p95Us: round(percentile(scorerUs, 0.95), 1),
    targetsMet: { frustrationF1En: en.frustration.f1 >= targetFrustrationF1, frustrationF1Pt: pt.frustration.f1 >= targetFrustrationF1 },
  };
  console.log(JSON.stringify(summary));
}

main();
