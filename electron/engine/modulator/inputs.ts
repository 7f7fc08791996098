/**
 * One question's network input, from what the critical path already knows: the retrieval probe,
 * the project's confirmed stacks, the candidate adapters and what was measured of them here.
 */
import { contextVector, type StackEstimate } from '../../../shared/context-vector.js';
import type { ChatMessage } from '../../../shared/contract.js';
import { scoreEmotion } from '../feedback/emotion/score.js';
import { adapterFeatures, bucketOf, contextFeatures, cosineSimilarity, ngramBuckets, type ProbeSignals, type QuestionSignals } from './features.js';
import type { NetworkInput, NetworkOptions } from './network.js';
import { levelOf, priorBudget, priorLogits, priorRetrieve, priorScales, type PriorSettings } from './prior.js';

/** An adapter version serving could apply (adapters/serving.ts checked its file against the base). */
export interface AdapterCandidate {
  name: string;
  version: string;
  scope: string;
  channel: string;
  path: string;
}

/** What the modulator knows of one candidate on this project. */
export interface CandidateKnowledge {
  harm: number | null;
  harmful: boolean;
  gain: number | null;
  centroid: Float32Array | null;
}

export interface QuestionContext {
  question: string;
  history: readonly ChatMessage[];
  regenerates: boolean;
  project: string | null;
  embedding: Float32Array | null;
  probe: ProbeSignals;
  ruleRetrieve: boolean;
  /** The project's confirmed stacks, most specific first; empty without a confirmed profile. */
  stacks: readonly StackEstimate[];
}

export interface BuiltInput {
  input: NetworkInput;
  signals: QuestionSignals;
  priorScales: number[];
  priorReasons: string[];
}

export function buildInput(
  context: QuestionContext,
  candidates: readonly AdapterCandidate[],
  knowledge: readonly CandidateKnowledge[],
  shape: NetworkOptions,
  prior: PriorSettings,
): BuiltInput {
  const emotion = scoreEmotion(context.question);
  const stackNames = context.stacks.map((stack) => stack.name);
  const signals: QuestionSignals = {
    question: context.question,
    historyTurns: context.history.length,
    regenerates: context.regenerates,
    embedding: context.embedding,
    probe: context.probe,
    ruleRetrieve: context.ruleRetrieve,
    emotion: { valence: emotion.valence, frustration: emotion.frustration, satisfaction: emotion.satisfaction, language: emotion.language },
    contextVector: context.stacks.length ? contextVector(context.stacks) : null,
    project: context.project,
  };
  const { scales, reasons } = priorScales(
    candidates.map((candidate, index) => ({ name: candidate.name, scope: candidate.scope, harmful: knowledge[index]!.harmful, harm: knowledge[index]!.harm })),
    stackNames,
    prior,
  );
  const cosines = knowledge.map((known) =>
    known.centroid && context.embedding && known.centroid.length === context.embedding.length ? cosineSimilarity(context.embedding, known.centroid) : null,
  );
  const present = cosines.filter((value): value is number => value !== null);
  const meanCosine = present.length ? present.reduce((sum, value) => sum + value, 0) / present.length : 0;
  const input: NetworkInput = {
    embedding: context.embedding && context.embedding.length === shape.embedding ? context.embedding : null,
    context: contextFeatures(signals),
    ngrams: ngramBuckets(context.question, shape.ngramBuckets),
    project: context.project ? bucketOf(context.project, shape.projectBuckets) : null,
    retrievePrior: priorRetrieve(context.ruleRetrieve, prior.strength),
    budgetPrior: priorBudget(shape.budgetLevels, prior.strength),
    candidates: candidates.map((candidate, index) => {
      const known = knowledge[index]!;
      const features = adapterFeatures(
        {
          name: candidate.name,
          scope: candidate.scope,
          version: Number(candidate.version) || 0,
          experimental: candidate.channel === 'experimental',
          projectStacks: stackNames,
          harmful: known.harmful,
          gain: known.gain,
          centroid: known.centroid,
          priorScale: scales[index]!,
          maxScale: prior.maxScale,
        },
        signals,
        cosines[index]!,
        meanCosine,
      );
      return {
        features,
        centroid: known.centroid && known.centroid.length === shape.embedding ? known.centroid : null,
        bucket: bucketOf(candidate.name, shape.adapterBuckets),
        prior: priorLogits(levelOf(scales[index]!, prior), shape.levels, prior.strength),
      };
    }),
  };
  return { input, signals, priorScales: scales, priorReasons: reasons };
}
