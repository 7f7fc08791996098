/**
 * The cold-start prior: what npllm did before the modulator, as logits the network adds to. Today's
 * serving rule (every `user` adapter and every adapter of a confirmed stack, at the configured
 * scale, at most `maxActive`), the judge's rule (a version measured significantly worse than the
 * base on this project is left out) and the rule-based retrieval gate (rag/gate.ts). A fresh
 * network adds nothing, so a fresh install answers exactly as it did.
 */

export interface PriorSettings {
  levels: number;
  maxScale: number;
  strength: number;
  defaultScale: number;
  maxActive: number;
}

export interface PriorCandidate {
  name: string;
  scope: string;
  harmful: boolean;
  /** How much worse than the base, when harmful: (nll − base) / base. */
  harm: number | null;
}

/** The scale the prior gives each candidate (in the candidates' order), with why. */
export function priorScales(
  candidates: readonly PriorCandidate[],
  projectStacks: readonly string[],
  settings: PriorSettings,
): { scales: number[]; reasons: string[] } {
  let active = 0;
  const reasons: string[] = [];
  const scales = candidates.map((candidate) => {
    if (candidate.scope !== 'user' && !projectStacks.includes(candidate.scope)) return 0;
    if (candidate.harmful) {
      reasons.push(`prior: ${candidate.name} off, measured ${((candidate.harm ?? 0) * 100).toFixed(1)} % worse than the base on this project`);
      return 0;
    }
    if (active >= settings.maxActive) return 0;
    active++;
    return settings.defaultScale;
  });
  return { scales, reasons };
}

export function levelOf(scale: number, settings: Pick<PriorSettings, 'levels' | 'maxScale'>): number {
  const step = settings.maxScale / (settings.levels - 1);
  return Math.max(0, Math.min(settings.levels - 1, Math.round(Math.min(scale, settings.maxScale) / step)));
}

export function scaleOf(level: number, settings: Pick<PriorSettings, 'levels' | 'maxScale'>): number {
  return Math.round(((settings.maxScale * level) / (settings.levels - 1)) * 1e4) / 1e4;
}

/** Logits with the prior's choice `strength` above every other level. */
export function priorLogits(level: number, count: number, strength: number): Float32Array {
  const logits = new Float32Array(count);
  logits[level] = strength;
  return logits;
}

export function priorRetrieve(retrieve: boolean, strength: number): number {
  return retrieve ? strength : -strength;
}

/** The rule always used the whole budget: the last level. */
export function priorBudget(count: number, strength: number): Float32Array {
  return priorLogits(count - 1, count, strength);
}
