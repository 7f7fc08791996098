/**
 * How the user felt about the last answer, read from their next message: frustration,
 * satisfaction or neither, in English and Brazilian Portuguese. Lexicon plus features, every
 * step named in `cues`; README.md beside this file has the algorithm and its numbers.
 */
import {
  acronyms,
  complaintOpeners,
  contrasts,
  fillers,
  infoOpeners,
  intensifiers,
  negators,
  rejections,
  resolvers,
  stopwords,
  type Polarity,
} from './lexicon.js';
import { guessLanguage } from './language.js';
import { findHits, type Hit } from './matcher.js';
import { contentWords, questionSimilarity } from './repetition.js';
import { prepareText } from './text.js';
import { normalizeTokens, tokenizeLines } from './tokens.js';
import type { RawToken, Token } from './types.js';

export type EmotionLabel = 'frustration' | 'satisfaction' | 'neutral';

export interface EmotionScore {
  label: EmotionLabel;
  frustration: number;
  satisfaction: number;
  /** satisfaction − frustration, in [-1, 1] */
  valence: number;
  language: 'en' | 'pt';
  /** human-readable cues that fired, e.g. "lexicon:nao funciona", "caps", "repeated-question" */
  cues: string[];
}

/** Evidence at which a side's score reaches 0.5, the threshold for taking the label. */
export const decisionEvidence = 0.5;
/** Content-word Dice at or above which the message is the previous question asked again. */
export const repeatedQuestionSimilarity = 0.75;

/** Every number the scorer uses besides the lexicon's weights; tuned on bench/emotion-dev.jsonl. */
const tuning = {
  /** Content words (function words do not count) a negator reaches forward, and tokens at most. */
  negationWords: 3,
  negationTokens: 6,
  /** Tokens a resolver ("gone", "sumiu") reaches back. */
  resolverTokens: 3,
  emphasis: 1.4,
  intensifier: 1.3,
  /** What a side says before "but" counts half when the other side speaks after it. */
  contrastDiscount: 0.5,
  persistenceWithFailure: 0.4,
  extraPersistence: 0.1,
  repeatedQuestion: 0.7,
  errorOutput: 0.45,
  /** A bare paste after an answer reports that the answer failed. */
  errorOutputAlone: 0.6,
  /** "How do I fix this?" with a traceback asks; it does not complain. */
  errorOutputInQuestion: 0.15,
  doubleQuestionMark: 0.5,
  tripleQuestionMark: 0.6,
  interrobang: 0.5,
  bareQuestionMark: 0.5,
  rejection: 0.5,
  capsWord: 0.2,
  shouting: 1.3,
  shoutingAlone: 0.4,
  exclamations: 1.2,
  /** Strong enough, after a positive word, to make it ironic ("great, another error"). */
  ironyEvidence: 0.5,
} as const;

const sentenceEnders = new Set(['.', '!', '?', ';', ':', '…']);

interface Sentence {
  start: number;
  end: number;
  /** The punctuation that closed it: "", ".", "?", "??", "?!", "!!!"… */
  terminal: string;
  /**
   * From this token on, the sentence asks for information or gives an instruction, so contextual
   * words name the topic: from its start when it opens like a question or a request, from its last
   * comma when only the question mark says so ("no such flag, where did you get that?"); `end`
   * when it does neither.
   */
  infoFrom: number;
}

/** A piece of evidence for one side, located in the token stream so contrast and irony can see its place. */
interface Evidence {
  polarity: Polarity;
  amount: number;
  start: number;
  end: number;
  cue: string;
  /** A lexicon word whose own polarity survived (not negated): what irony can turn around. */
  flippable: boolean;
}

export function scoreEmotion(message: string, context: { previous?: string } = {}): EmotionScore {
  const text = prepareText(message);
  const raw = tokenizeLines(text.proseLines);
  const previous = context.previous?.trim() ? previousTokens(context.previous) : undefined;
  const language = guessLanguage(raw, text.proseLines.join('\n'), () => (previous ? guessLanguage(previous.raw, previous.prose, () => undefined) : undefined));
  const tokens = normalizeTokens(raw, language);
  const hits = findHits(tokens, language);
  const consumed = new Set(hits.flatMap((hit) => range(hit.start, hit.end)));
  const sentences = splitSentences(tokens, consumed);
  const sentenceOf = (index: number) => sentences.find((s) => index >= s.start && index < s.end);
  const cues: string[] = [];
  const evidence: Evidence[] = [];
  const persistence: Hit[] = [];
  const sarcasmMarkers: Hit[] = [];
  let failure = false;

  for (const sentence of sentences) {
    const sentenceHits = hits.filter((hit) => hit.start >= sentence.start && hit.start < sentence.end);
    const words = tokens.slice(sentence.start, sentence.end).filter((t) => t.kind === 'word').length;
    // A bare "again?" / "de novo?" asks nothing: it complains that the answer changed nothing.
    if (sentence.terminal.includes('?') && words <= 3 && sentenceHits.some((hit) => hit.entry.role === 'persistence')) {
      sentence.infoFrom = sentence.end;
      failure = true;
      cues.push('persistence-question');
    }
  }

  for (const hit of hits) {
    const { entry } = hit;
    if (entry.role === 'persistence') {
      persistence.push(hit);
      continue;
    }
    if (entry.role === 'sarcasm') {
      sarcasmMarkers.push(hit);
      evidence.push({ polarity: 'frustration', amount: entry.weight, start: hit.start, end: hit.end, cue: `sarcasm:${hit.text}`, flippable: false });
      continue;
    }
    const sentence = sentenceOf(hit.start);
    const negator = entry.fixed || startsWithNegator(hit) ? undefined : findNegator(tokens, hit, consumed);
    const resolver = entry.polarity === 'frustration' && !negator ? findResolver(tokens, hit, sentence) : undefined;
    const negated = negator !== undefined || resolver !== undefined;
    const polarity: Polarity = negated ? opposite(entry.polarity) : entry.polarity;
    const base = negated ? (entry.negatedWeight ?? (entry.polarity === 'frustration' ? entry.weight / 2 : entry.weight)) : entry.weight;
    if (base === 0) continue;
    const cueText = negator ? `${negator} ${hit.text}` : resolver ? `${hit.text} ${resolver}` : hit.text;
    if (entry.role === 'contextual' && sentence && hit.start >= sentence.infoFrom) {
      cues.push(`in-question:${cueText}`);
      continue;
    }
    const emphasised = tokens.slice(hit.start, hit.end).some((t) => t.caps || t.stretched);
    const amount = base * (emphasised ? tuning.emphasis : 1) * (isIntensified(tokens, hit) ? tuning.intensifier : 1);
    evidence.push({ polarity, amount, start: hit.start, end: hit.end, cue: `lexicon:${cueText}`, flippable: !negated });
    if (polarity === 'frustration') failure = true;
  }

  const features = (polarity: Polarity, amount: number, cue: string, at = tokens.length) =>
    evidence.push({ polarity, amount, start: at, end: at, cue, flippable: false });

  const words = tokens.filter((t) => t.kind === 'word' || t.kind === 'emoji');
  if (text.hasCode) cues.push('code');
  if (text.errorOutput) {
    const amount = words.length === 0 ? tuning.errorOutputAlone : sentences.some((s) => s.infoFrom < s.end) ? tuning.errorOutputInQuestion : tuning.errorOutput;
    features('frustration', amount, 'error-output');
    failure = true;
  }

  const terminals = sentences.map((s) => s.terminal);
  const questionMarks = Math.max(0, ...terminals.map((t) => t.split('?').length - 1));
  const interrobang = terminals.some((t) => t.includes('?!') || t.includes('!?'));
  if (interrobang || questionMarks >= 2) {
    const amount = Math.max(
      interrobang ? tuning.interrobang : 0,
      questionMarks >= 3 ? tuning.tripleQuestionMark : questionMarks >= 2 ? tuning.doubleQuestionMark : 0,
    );
    features('frustration', amount, interrobang ? 'interrobang' : 'repeated-punctuation');
    failure = true;
  }
  if (words.length === 0 && questionMarks >= 1) {
    features('frustration', tuning.bareQuestionMark, 'bare-question');
    failure = true;
  }
  const rejection = commaPieces(tokens).find(
    (piece) =>
      piece.some((t) => rejections.has(t.text)) &&
      piece.every((t) => t.kind === 'word' && (rejections.has(t.text) || fillers.has(t.text) || t.text === '<laugh>')),
  );
  if (rejection) {
    features('frustration', rejection.some((t) => t.caps || t.stretched) ? tuning.rejection * tuning.emphasis : tuning.rejection, 'rejection', 0);
    failure = true;
  }

  if (previous && questionSimilarity(contentWords(tokens), contentWords(normalizeTokens(previous.raw, language))) >= repeatedQuestionSimilarity) {
    features('frustration', tuning.repeatedQuestion, 'repeated-question');
    failure = true;
  }

  if (persistence.length > 0) {
    const strongest = persistence.reduce((best, hit) => (hit.entry.weight > best.entry.weight ? hit : best));
    const amount = strongest.entry.weight + tuning.extraPersistence * (persistence.length - 1) + (failure ? tuning.persistenceWithFailure : 0);
    evidence.push({
      polarity: 'frustration',
      amount,
      start: strongest.start,
      end: strongest.end,
      cue: `persistence:${[...new Set(persistence.map((hit) => hit.text))].join(',')}`,
      flippable: false,
    });
    if (failure) cues.push('persistence+failure');
  }

  applyIrony(evidence, sarcasmMarkers.length > 0, tokens, cues);
  applyContrast(evidence, tokens, cues);

  let frustration = sum(evidence, 'frustration');
  let satisfaction = sum(evidence, 'satisfaction');
  cues.push(...evidence.map((e) => e.cue));

  if (isShouting(raw)) {
    cues.push('caps');
    if (satisfaction > frustration) satisfaction *= tuning.shouting;
    else frustration = frustration * tuning.shouting + (frustration === 0 ? tuning.shoutingAlone : 0);
  } else if (tokens.some((t, i) => t.caps && !evidence.some((e) => e.polarity === 'satisfaction' && i >= e.start && i < e.end))) {
    cues.push('caps-word');
    frustration += tuning.capsWord;
  }
  if (terminals.some((t) => !t.includes('?') && t.split('!').length > 2)) {
    cues.push('exclamations');
    if (satisfaction > frustration) satisfaction *= tuning.exclamations;
    else frustration *= tuning.exclamations;
  }

  const f = squash(frustration);
  const s = squash(satisfaction);
  const label: EmotionLabel = Math.max(f, s) < 0.5 || f === s ? 'neutral' : f > s ? 'frustration' : 'satisfaction';
  return { label, frustration: round(f), satisfaction: round(s), valence: round(s - f), language, cues: [...new Set(cues)] };
}

function previousTokens(previous: string): { raw: RawToken[]; prose: string } {
  const prepared = prepareText(previous);
  return { raw: tokenizeLines(prepared.proseLines), prose: prepared.proseLines.join('\n') };
}

function splitSentences(tokens: readonly Token[], consumed: ReadonlySet<number>): Sentence[] {
  const sentences: Sentence[] = [];
  let start = 0;
  let index = 0;
  const close = (end: number, terminal: string) => {
    if (end > start || terminal) sentences.push({ start, end, terminal, infoFrom: end });
  };
  while (index < tokens.length) {
    const token = tokens[index]!;
    if (token.kind === 'break') {
      close(index, '');
      index += 1;
      start = index;
    } else if (token.kind === 'punctuation' && sentenceEnders.has(token.text)) {
      let terminal = '';
      let next = index;
      while (next < tokens.length && tokens[next]!.kind === 'punctuation' && sentenceEnders.has(tokens[next]!.text)) terminal += tokens[next++]!.text;
      close(index, terminal);
      start = index = next;
    } else {
      index += 1;
    }
  }
  close(tokens.length, '');
  for (const sentence of sentences) {
    const opening = opener(tokens, sentence, consumed);
    if (opening === 'info') sentence.infoFrom = sentence.start;
    else if (opening === 'none' && sentence.terminal === '?') sentence.infoFrom = lastCommaBefore(tokens, sentence) + 1;
  }
  return sentences;
}

/**
 * What kind of sentence its first meaningful word makes it (fillers such as "ok, and…" skipped).
 * A lexicon word is not an opener ("show, era isso" praises), nor is one followed by a negator:
 * "doesn't help." states, "como não funciona?" complains.
 */
function opener(tokens: readonly Token[], sentence: Sentence, consumed: ReadonlySet<number>): 'info' | 'complaint' | 'none' {
  for (let i = sentence.start; i < sentence.end; i += 1) {
    const token = tokens[i]!;
    if (token.kind !== 'word') continue;
    const next = i + 1 < sentence.end ? tokens[i + 1] : undefined;
    const pair = next?.kind === 'word' ? `${token.text} ${next.text}` : '';
    if (complaintOpeners.has(pair) || complaintOpeners.has(token.text)) return 'complaint';
    if (fillers.has(token.text)) continue;
    if (consumed.has(i)) return 'none';
    if (infoOpeners.has(pair) || infoOpeners.has(token.text)) return next?.kind === 'word' && negators.has(next.text) ? 'none' : 'info';
    return 'none';
  }
  return 'none';
}

function lastCommaBefore(tokens: readonly Token[], sentence: Sentence): number {
  for (let i = sentence.end - 1; i >= sentence.start; i -= 1) if (tokens[i]!.kind === 'punctuation' && tokens[i]!.text === ',') return i;
  return sentence.start - 1;
}

function startsWithNegator(hit: Hit): boolean {
  return negators.has(hit.text.split(' ', 1)[0]!);
}

/** The negator governing a hit: within a few content words before it, in the same clause, and not itself part of a phrase. */
function findNegator(tokens: readonly Token[], hit: Hit, consumed: ReadonlySet<number>): string | undefined {
  let contentSeen = 0;
  for (let i = hit.start - 1; i >= 0 && hit.start - i <= tuning.negationTokens; i -= 1) {
    const token = tokens[i]!;
    if (token.kind !== 'word' || contrasts.has(token.text)) return undefined;
    if (negators.has(token.text)) return consumed.has(i) ? undefined : token.text;
    if (consumed.has(i)) return undefined;
    if (!stopwords.en.has(token.text) && !stopwords.pt.has(token.text) && !intensifiers.has(token.text)) {
      contentSeen += 1;
      if (contentSeen >= tuning.negationWords) return undefined;
    }
  }
  return undefined;
}

/** "the error is gone", "o erro sumiu": the problem named is over. */
function findResolver(tokens: readonly Token[], hit: Hit, sentence: Sentence | undefined): string | undefined {
  const end = Math.min(hit.end + tuning.resolverTokens, sentence?.end ?? tokens.length);
  for (let i = hit.end; i < end; i += 1) {
    const token = tokens[i]!;
    if (token.kind === 'word' && resolvers.has(token.text)) return token.text;
  }
  return undefined;
}

function isIntensified(tokens: readonly Token[], hit: Hit): boolean {
  const before = tokens[hit.start - 1];
  const after = tokens[hit.end];
  return (before?.kind === 'word' && intensifiers.has(before.text)) || (after?.kind === 'word' && after.text === 'demais');
}

/**
 * Irony turns praise into frustration: always with a marker (🙄, "sqn"), otherwise when a positive
 * word is followed, with no "but" between them, by strong evidence of failure ("great, another
 * error", "perfeito, agora nada funciona"). Praise after the complaint stays praise.
 */
function applyIrony(evidence: Evidence[], marked: boolean, tokens: readonly Token[], cues: string[]): void {
  const failures = evidence.filter((e) => e.polarity === 'frustration' && (e.amount >= tuning.ironyEvidence || e.cue === 'error-output'));
  let flipped = false;
  for (const praise of evidence) {
    if (praise.polarity !== 'satisfaction' || !praise.flippable) continue;
    if (marked || failures.some((f) => f.start >= praise.end && !hasContrast(tokens, praise.end, f.start))) {
      praise.polarity = 'frustration';
      praise.cue = `${praise.cue} (ironic)`;
      flipped = true;
    }
  }
  if (flipped) cues.push('sarcasm');
}

/** "thanks, but it still fails": what comes before the last "but" counts half when the other side speaks after it. */
function applyContrast(evidence: Evidence[], tokens: readonly Token[], cues: string[]): void {
  tokens.forEach((token, position) => {
    if (token.kind !== 'word' || !contrasts.has(token.text)) return;
    for (const before of evidence) {
      if (before.end > position) continue;
      if (evidence.some((after) => after.start > position && after.polarity !== before.polarity)) {
        before.amount *= tuning.contrastDiscount;
        cues.push(`contrast:${token.text}`);
      }
    }
  });
}

function hasContrast(tokens: readonly Token[], from: number, to: number): boolean {
  return tokens.slice(from, to).some((t) => t.kind === 'word' && contrasts.has(t.text));
}

/** Pieces of text between commas and sentence ends, for one-word replies such as "no, …". */
function commaPieces(tokens: readonly Token[]): Token[][] {
  const pieces: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'break' || token.kind === 'punctuation') pieces.push([]);
    else pieces[pieces.length - 1]!.push(token);
  }
  return pieces;
}

/** Most of the words in capitals: SHOUTING, as opposed to one stressed word. */
function isShouting(raw: readonly RawToken[]): boolean {
  const words = raw.filter((t) => t.kind === 'word' && t.text.length >= 2 && !acronyms.has(t.text));
  const shouted = words.filter((t) => t.caps);
  return words.length >= 2 && shouted.length / words.length >= 0.6 && shouted.reduce((letters, t) => letters + t.text.length, 0) >= 6;
}

function sum(evidence: readonly Evidence[], polarity: Polarity): number {
  return evidence.filter((e) => e.polarity === polarity).reduce((total, e) => total + e.amount, 0);
}

/** Evidence 0 → 0, `decisionEvidence` → 0.5, more → towards 1. */
function squash(evidence: number): number {
  return 1 - 2 ** (-evidence / decisionEvidence);
}

function opposite(polarity: Polarity): Polarity {
  return polarity === 'frustration' ? 'satisfaction' : 'frustration';
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
