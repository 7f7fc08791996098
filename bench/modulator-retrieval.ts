/**
 * Retrieval decisions against labels from the model itself: a project (part of Django) is indexed
 * by the product, and questions are asked in it — about its own functions (by what their docstring
 * says, or by their name) and general ones (Python standard-library functions, by their
 * docstring). A question's label is whether the code the product retrieves for it lowers the NLL
 * of the reference answer (the function's code) by more than 2 %; the rule-based gate and the
 * modulator (fitted on the other half of the questions, by source file) are scored against it.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolveChatWrapper, type ChatHistoryItem, type Token } from 'node-llama-cpp';
import type { Engine } from '../electron/engine/engine.js';
import { buildInput } from '../electron/engine/modulator/inputs.js';
import { ModulatorNetwork, type NetworkInput, type NetworkOptions } from '../electron/engine/modulator/network.js';
import { fit, type RetrievalExample } from '../electron/engine/modulator/offline.js';
import { greedy } from '../electron/engine/modulator/policy.js';
import type { PriorSettings } from '../electron/engine/modulator/prior.js';
import type { MixScorer } from '../electron/engine/modulator/scorer.js';
import { progress, round } from './measure.js';

export interface Question {
  kind: 'project-doc' | 'project-symbol' | 'general';
  question: string;
  reference: string;
  /** The file the answer comes from: the cross-validation split. */
  source: string;
}

interface PyFunction {
  name: string;
  doc: string;
  code: string;
}

/** Python functions with a one-line-or-more docstring, by a plain scan (def, then a triple-quoted string). */
export function pythonFunctions(text: string): PyFunction[] {
  const found: PyFunction[] = [];
  const pattern = /^([ \t]*)def (\w+)\(([^)]*)\)[^:\n]*:\n\1[ \t]+(?:r|u)?"""([\s\S]*?)"""/gm;
  for (const match of text.matchAll(pattern)) {
    const doc = match[4]!
      .trim()
      .split(/\n\s*\n/)[0]!
      .replace(/\s+/g, ' ');
    if (doc.length < 25 || doc.length > 240 || match[2]!.startsWith('_')) continue;
    const start = match.index;
    const indent = match[1]!.length;
    const lines = text.slice(start).split('\n');
    let end = 1;
    while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.search(/\S/) > indent)) end++;
    found.push({ name: match[2]!, doc, code: lines.slice(0, end).join('\n').trimEnd() });
  }
  return found;
}

function firstSentence(doc: string): string {
  const sentence = doc.split(/(?<=\.)\s/)[0]!.replace(/\.$/, '');
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

export function questions(projectFiles: readonly string[], generalFiles: readonly string[], perKind: number): Question[] {
  const pick = <T>(items: T[], count: number) =>
    items.length <= count ? items : Array.from({ length: count }, (_, index) => items[Math.floor((index * items.length) / count)]!);
  const project = projectFiles.flatMap((file) => pythonFunctions(readFileSync(file, 'utf8')).map((fn) => ({ ...fn, file })));
  const general = generalFiles.flatMap((file) => pythonFunctions(readFileSync(file, 'utf8')).map((fn) => ({ ...fn, file })));
  const out: Question[] = [];
  for (const fn of pick(project, perKind))
    out.push({
      kind: 'project-doc',
      question: `In this project, where is the code that does this: ${firstSentence(fn.doc)}? Show it.`,
      reference: fn.code,
      source: fn.file,
    });
  for (const fn of pick(project.slice().reverse(), perKind))
    out.push({ kind: 'project-symbol', question: `How does \`${fn.name}\` work?`, reference: fn.code, source: fn.file });
  for (const fn of pick(general, perKind))
    out.push({ kind: 'general', question: `Write a Python function that does this: ${firstSentence(fn.doc)}.`, reference: fn.code, source: fn.file });
  return out;
}

export interface LabelledQuestion extends Question {
  nllWithout: number;
  nllWith: number | null;
  nllHalf: number | null;
  retrievedTokens: number;
  rule: boolean;
  helps: boolean;
  smallSuffices: boolean;
}

/** Scores every question with and without the retrieved code (the product's probe, gate and fetch), on the base model. */
export async function label(
  engine: Engine,
  scorer: MixScorer,
  root: string,
  items: readonly Question[],
  options: { systemPrompt: string; contextTokens: number; referenceTokens: number },
): Promise<LabelledQuestion[]> {
  const wrapper = resolveChatWrapper(scorer.model);
  await scorer.setMix([]);
  const count = await engine.model.tokenCounter();
  const prompt = (question: string, context: string | null): Token[] => {
    const history: ChatHistoryItem[] = [
      { type: 'system', text: options.systemPrompt },
      ...(context ? [{ type: 'system' as const, text: context }] : []),
      { type: 'user', text: question },
      { type: 'model', response: [] },
    ];
    return wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(scorer.model.tokenizer);
  };
  const labelled: LabelledQuestion[] = [];
  for (const [index, item] of items.entries()) {
    const reference = scorer.tokenize(item.reference).slice(0, options.referenceTokens);
    const probe = await engine.rag.retriever.probe({ question: item.question, history: [], root });
    const nllWithout = await scorer.score({ prompt: prompt(item.question, null), reference });
    const fetch = async (budget: number) =>
      (await engine.rag.retriever.fetch(probe, { question: item.question, tokens: () => Promise.resolve(count), budget: () => budget })).contextMessage
        ?.content ?? null;
    const full = await fetch(options.contextTokens);
    const half = await fetch(Math.floor(options.contextTokens / 2));
    const nllWith = full ? await scorer.score({ prompt: prompt(item.question, full), reference }) : null;
    const nllHalf = half ? (half === full ? nllWith : await scorer.score({ prompt: prompt(item.question, half), reference })) : null;
    const helps = nllWith !== null && nllWith < nllWithout * 0.98;
    labelled.push({
      ...item,
      nllWithout,
      nllWith,
      nllHalf,
      retrievedTokens: full ? count(full) : 0,
      rule: probe.rule.retrieve,
      helps,
      smallSuffices: nllHalf !== null && nllWith !== null && nllHalf <= nllWith * 1.01,
    });
    if ((index + 1) % 10 === 0) progress(`retrieval labels: ${index + 1}/${items.length}`);
  }
  return labelled;
}

export interface RetrievalReport {
  questions: number;
  positives: number;
  rule: { precision: number; recall: number; retrieved: number; tokens: number };
  modulator: { precision: number; recall: number; retrieved: number; tokens: number; precisionSeeds: number[]; recallSeeds: number[] };
  promptTokensSaved: number;
  byKind: Record<string, { count: number; helps: number; rule: number; modulator: number }>;
}

/** The modulator's retrieval head, fitted on one half (by source file) and judged on the other, for several seeds. */
export async function evaluateRetrieval(
  engine: Engine,
  root: string,
  labelled: readonly LabelledQuestion[],
  setup: { shape: NetworkOptions; prior: PriorSettings; seeds: number; steps: number; learningRate: number },
): Promise<RetrievalReport> {
  const inputs: NetworkInput[] = [];
  for (const item of labelled) {
    const probe = await engine.rag.retriever.probe({ question: item.question, history: [], root });
    const built = buildInput(
      {
        question: item.question,
        history: [],
        regenerates: false,
        project: root,
        embedding: probe.embedding,
        probe,
        ruleRetrieve: probe.rule.retrieve,
        stacks: [
          { name: 'django', version: '4.2', confidence: 0.97 },
          { name: 'python', version: null, confidence: 0.9 },
        ],
      },
      [],
      [],
      setup.shape,
      setup.prior,
    );
    inputs.push(built.input);
  }
  const fold = (item: Question) => parseInt(createHash('sha256').update(item.source).digest('hex').slice(0, 8), 16) % 2;
  const score = (decisions: readonly boolean[]) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tokens = 0;
    decisions.forEach((retrieve, index) => {
      const item = labelled[index]!;
      if (retrieve) tokens += item.retrievedTokens;
      if (retrieve && item.helps) tp++;
      else if (retrieve) fp++;
      else if (item.helps) fn++;
    });
    return { precision: round(tp / Math.max(1, tp + fp), 3), recall: round(tp / Math.max(1, tp + fn), 3), retrieved: decisions.filter(Boolean).length, tokens };
  };
  const ruleDecisions = labelled.map((item) => item.rule);
  const seedResults: ReturnType<typeof score>[] = [];
  let firstDecisions: boolean[] = [];
  for (let seed = 1; seed <= setup.seeds; seed++) {
    const decisions = new Array<boolean>(labelled.length).fill(false);
    for (const side of [0, 1]) {
      const network = new ModulatorNetwork({ ...setup.shape, seed, learningRate: setup.learningRate });
      const train: RetrievalExample[] = labelled.flatMap((item, index) =>
        fold(item) === side ? [] : [{ input: inputs[index]!, retrieveHelps: item.helps, budget: item.helps ? (item.smallSuffices ? 0 : 1) : null }],
      );
      fit(network, { retrieval: train }, { steps: setup.steps, batch: 16, seed });
      labelled.forEach((item, index) => {
        if (fold(item) === side) decisions[index] = greedy(network.forward(inputs[index]!).output).retrieve;
      });
    }
    seedResults.push(score(decisions));
    if (seed === 1) firstDecisions = decisions;
  }
  const rule = score(ruleDecisions);
  const meanOf = (key: 'precision' | 'recall' | 'retrieved' | 'tokens') =>
    round(seedResults.reduce((sum, result) => sum + result[key], 0) / seedResults.length, 3);
  const byKind: RetrievalReport['byKind'] = {};
  labelled.forEach((item, index) => {
    const entry = (byKind[item.kind] ??= { count: 0, helps: 0, rule: 0, modulator: 0 });
    entry.count++;
    if (item.helps) entry.helps++;
    if (item.rule) entry.rule++;
    if (firstDecisions[index]) entry.modulator++;
  });
  const modulatorTokens = meanOf('tokens');
  return {
    questions: labelled.length,
    positives: labelled.filter((item) => item.helps).length,
    rule,
    modulator: {
      precision: meanOf('precision'),
      recall: meanOf('recall'),
      retrieved: meanOf('retrieved'),
      tokens: modulatorTokens,
      precisionSeeds: seedResults.map((result) => result.precision),
      recallSeeds: seedResults.map((result) => result.recall),
    },
    promptTokensSaved: round(rule.tokens - modulatorTokens, 0),
    byKind,
  };
}
