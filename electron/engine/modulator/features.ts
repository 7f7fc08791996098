/**
 * The modulator's inputs (modulator/README.md "Features"), all computed on the critical path
 * already or in microseconds: bottom-up, what the question says (its MiniLM embedding, lexical
 * signals, the nearest-chunk probe, the emotion of the message); top-down, what the project is
 * (its confirmed context vector, a learned per-project row) and what each candidate adapter is
 * (its stack, version, measured effect on this project, a centroid of what it learned).
 */
import { contextVectorLength, languageFamilies, stackFamily, stackNames, type StackName } from '../../../shared/context-vector.js';
import type { CandidateInput, NetworkInput } from './network.js';

export const contextFeatureCount = 64;
export const adapterFeatureCount = 36;

export interface ProbeSignals {
  /** A project is set for the question. */
  project: boolean;
  /** Its index has chunks embedded by the current embedder. */
  indexed: boolean;
  /** Cosine distances of the nearest chunks, ascending (empty without a probe). */
  distances: readonly number[];
  /** Code-like words and path-like tokens the question contains. */
  identifiers: number;
  paths: number;
  /** Of those, project symbols and files the index knows. */
  symbols: number;
  files: number;
  /** Everything named is already in the conversation. */
  namedInHistory: boolean;
  /** The question is worded as one about the user's own code. */
  projectWording: boolean;
}

export interface QuestionSignals {
  question: string;
  historyTurns: number;
  regenerates: boolean;
  embedding: Float32Array | null;
  probe: ProbeSignals;
  /** The rule-based gate's decision (the prior). */
  ruleRetrieve: boolean;
  emotion: { valence: number; frustration: number; satisfaction: number; language: 'en' | 'pt' };
  /** The confirmed project's context vector, null without one. */
  contextVector: Float32Array | null;
  project: string | null;
}

export interface CandidateSignals {
  name: string;
  scope: string;
  version: number;
  experimental: boolean;
  /** The project's confirmed stacks, in the user's order. */
  projectStacks: readonly string[];
  /** Measured significantly worse than the base on this project. */
  harmful: boolean;
  /** Relative held-out gain over the base on this project, null when never measured. */
  gain: number | null;
  centroid: Float32Array | null;
  priorScale: number;
  maxScale: number;
}

const languageCues: readonly RegExp[] = [
  /\b(python|py|def|django|odoo|flask|pip|pandas|numpy)\b/i,
  /\b(javascript|typescript|js|ts|jsx|tsx|node|npm|react|vue|widget|owl|es6)\b/i,
  /\b(sql|select|join|query|queryset|postgres|database)\b/i,
  /\b(rust|cargo|impl|fn|crate|trait|borrow)\b/i,
  /\b(xml|html|qweb|view|template|css|scss)\b/i,
  /\b(bash|shell|sh|docker|yaml|config)\b/i,
  /\b(java|kotlin|go|golang|php|ruby)\b/i,
  /\b(test|tests|pytest|jest|unittest|mock)\b/i,
];

/** The question-level features, in the layout the network was built with (`contextFeatureCount`). */
export function contextFeatures(signals: QuestionSignals): Float32Array {
  const f = new Float32Array(contextFeatureCount);
  const q = signals.question;
  const { probe } = signals;
  f[0] = Math.log1p(q.length) / 8;
  f[1] = /```|^( {4}|\t)\S/m.test(q) ? 1 : 0;
  f[2] = q.includes('`') ? 1 : 0;
  f[3] = Math.min(1, probe.identifiers / 5);
  f[4] = Math.min(1, probe.paths / 3);
  f[5] = Math.min(1, probe.symbols / 3);
  f[6] = Math.min(1, probe.files / 3);
  f[7] = probe.namedInHistory ? 1 : 0;
  f[8] = probe.projectWording ? 1 : 0;
  f[9] = q.includes('?') ? 1 : 0;
  f[10] = signals.emotion.language === 'pt' ? 1 : 0;
  f[11] = signals.emotion.language === 'en' ? 1 : 0;
  f[12] = Math.log1p(signals.historyTurns) / 3;
  languageCues.forEach((cue, index) => (f[13 + index] = cue.test(q) ? 1 : 0));
  f[21] = probe.project ? 1 : 0;
  f[22] = probe.indexed ? 1 : 0;
  f[23] = signals.embedding ? 1 : 0;
  const d = probe.distances;
  f[24] = d.length ? d[0]! : 1;
  f[25] = d.length > 1 ? d[1]! - d[0]! : 0;
  f[26] = d.length > 1 ? d[d.length - 1]! - d[0]! : 0;
  f[27] = d.length ? d.reduce((sum, value) => sum + value, 0) / d.length : 1;
  f[28] = signals.ruleRetrieve ? 1 : 0;
  f[29] = signals.emotion.valence;
  f[30] = signals.emotion.frustration;
  f[31] = signals.emotion.satisfaction;
  f[32] = signals.regenerates ? 1 : 0;
  if (signals.contextVector) for (let i = 0; i < contextVectorLength; i++) f[33 + i] = finite(signals.contextVector[i]);
  f[63] = 1;
  return sanitize(f);
}

const scopeSlots = [...stackNames, 'user'] as const;

/** One candidate adapter's descriptor (`adapterFeatureCount`); `cosines` are all candidates' question–centroid similarities. */
export function adapterFeatures(candidate: CandidateSignals, signals: QuestionSignals, cosine: number | null, meanCosine: number): Float32Array {
  const f = new Float32Array(adapterFeatureCount);
  const slot = (scopeSlots as readonly string[]).indexOf(candidate.scope);
  f[slot === -1 ? scopeSlots.length : slot] = 1;
  const rank = candidate.projectStacks.indexOf(candidate.scope);
  f[22] = rank === -1 ? 0 : 1;
  f[23] = rank === -1 ? 0 : 1 / (1 + rank);
  f[24] = candidate.scope === 'user' ? 1 : 0;
  f[25] = Math.log1p(candidate.version) / 3;
  f[26] = candidate.experimental ? 1 : 0;
  f[27] = candidate.harmful ? 1 : 0;
  f[28] = candidate.gain === null ? 0 : Math.max(-1, Math.min(1, candidate.gain));
  f[29] = candidate.gain === null ? 0 : 1;
  f[30] = cosine ?? 0;
  f[31] = cosine === null ? 0 : 1;
  f[32] = candidate.maxScale > 0 ? candidate.priorScale / candidate.maxScale : 0;
  const family = (stackNames as readonly string[]).includes(candidate.scope) ? stackFamily[candidate.scope as StackName] : null;
  f[33] = family && signals.contextVector ? finite(signals.contextVector[stackNames.length + 1 + languageFamilies.indexOf(family)]) : 0;
  f[34] = cosine === null ? 0 : cosine - meanCosine;
  f[35] = 1;
  return sanitize(f);
}

/** Lower-cased words, identifiers split at case and underscores, their bigrams; hashed into buckets. */
export function ngramBuckets(question: string, buckets: number, limit = 96): number[] {
  const words = question
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0 && word.length < 40);
  const grams = new Set<number>();
  for (let i = 0; i < words.length && grams.size < limit; i++) {
    grams.add(hash(`1:${words[i]}`) % buckets);
    if (i > 0) grams.add(hash(`2:${words[i - 1]} ${words[i]}`) % buckets);
  }
  return [...grams].slice(0, limit);
}

export function bucketOf(key: string, buckets: number): number {
  return hash(key) % buckets;
}

/** FNV-1a, 32 bits: stable across processes and versions, so stored features keep their meaning. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}

function sanitize(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) values[i] = 0;
  return values;
}

/** A network input as stored with its decision (JSON-safe), so rewards can train on it later. */
export interface StoredInput {
  embedding: string | null;
  context: number[];
  ngrams: number[];
  project: number | null;
  retrievePrior: number;
  budgetPrior: number[];
  candidates: { features: number[]; centroid: string | null; bucket: number; prior: number[] }[];
}

export function encodeInput(input: NetworkInput): StoredInput {
  return {
    embedding: input.embedding ? floatsToBase64(input.embedding) : null,
    context: [...input.context].map(round),
    ngrams: [...input.ngrams],
    project: input.project,
    retrievePrior: input.retrievePrior,
    budgetPrior: [...input.budgetPrior],
    candidates: input.candidates.map((candidate) => ({
      features: [...candidate.features].map(round),
      centroid: candidate.centroid ? floatsToBase64(candidate.centroid) : null,
      bucket: candidate.bucket,
      prior: [...candidate.prior],
    })),
  };
}

export function decodeInput(stored: StoredInput): NetworkInput {
  return {
    embedding: stored.embedding ? base64ToFloats(stored.embedding) : null,
    context: Float32Array.from(stored.context),
    ngrams: stored.ngrams,
    project: stored.project,
    retrievePrior: stored.retrievePrior,
    budgetPrior: Float32Array.from(stored.budgetPrior),
    candidates: stored.candidates.map((candidate): CandidateInput => ({
      features: Float32Array.from(candidate.features),
      centroid: candidate.centroid ? base64ToFloats(candidate.centroid) : null,
      bucket: candidate.bucket,
      prior: Float32Array.from(candidate.prior),
    })),
  };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function floatsToBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

function base64ToFloats(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % 4));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float32Array(copy.buffer);
}
