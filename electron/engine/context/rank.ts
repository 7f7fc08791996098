/**
 * From evidence to ranked stacks. Each piece of evidence is read as an independent chance that
 * the stack is there, so they combine by noisy-OR: confidence = 1 − Π(1 − weight). Evidence that
 * is not independent (the same dependency in every package.json of a monorepo, fifty Odoo
 * manifests) is one piece whose weight is its strongest item's, so repetition cannot fake
 * certainty.
 */
import { stackNames, type StackName } from '../../../shared/context-vector.js';
import type { DetectedStack } from './types.js';
import type { Evidence, Findings, VersionClaim } from './stacks.js';

/** Metadata never proves a stack: a 1.00 would claim more than a file listing can know. */
export const maxConfidence = 0.99;

/** More paths than this in one evidence line become "…". */
const listedPaths = 3;

/**
 * What each stack is built on. A framework's own evidence is narrower than its language's (every
 * Next.js app is a Node project, not the reverse), so it may score lower and still be the better
 * description: implied stacks always rank after the stacks implying them.
 */
const implies: Partial<Record<StackName, readonly StackName[]>> = {
  odoo: ['python'],
  django: ['python'],
  flask: ['python'],
  fastapi: ['python'],
  nextjs: ['react', 'node'],
  react: ['node'],
  vue: ['node'],
  angular: ['node'],
  electron: ['node'],
  'typescript-library': ['node'],
  'php-laravel': ['php'],
  'ruby-rails': ['ruby'],
};

export function rankStacks(findings: Findings, minConfidence: number): DetectedStack[] {
  const byStack = new Map<StackName, Evidence[]>();
  for (const evidence of findings.evidence) byStack.set(evidence.stack, [...(byStack.get(evidence.stack) ?? []), evidence]);
  const stacks: DetectedStack[] = [];
  for (const [name, evidence] of byStack) {
    const pieces = mergeByKind(evidence);
    const confidence = Math.min(maxConfidence, round2(1 - pieces.reduce((doubt, piece) => doubt * (1 - piece.weight), 1)));
    if (confidence < minConfidence || confidence === 0) continue;
    stacks.push({ name, version: chooseVersion(name, findings.versions), confidence, evidence: pieces.map((piece) => piece.text) });
  }
  return frameworksFirst(stacks);
}

interface Piece {
  weight: number;
  text: string;
}

/** One piece per kind, strongest first; the other files of the same kind are named after it. */
function mergeByKind(evidence: readonly Evidence[]): Piece[] {
  const kinds = new Map<string, Evidence[]>();
  for (const item of evidence) kinds.set(item.kind, [...(kinds.get(item.kind) ?? []), item]);
  const pieces: Piece[] = [];
  for (const items of kinds.values()) {
    const strongest = items.reduce((best, item) => (item.weight > best.weight ? item : best));
    const others = items.filter((item) => item !== strongest && item.path !== null).map((item) => item.path!);
    const more =
      others.length === 0 ? '' : ` (and ${others.length} more: ${others.slice(0, listedPaths).join(', ')}${others.length > listedPaths ? ', …' : ''})`;
    pieces.push({ weight: strongest.weight, text: strongest.text + more });
  }
  return pieces.sort((a, b) => b.weight - a.weight);
}

/** The version most manifests agree on; on a tie the shallowest manifest's, as the project's own root declares it. */
function chooseVersion(stack: StackName, claims: readonly VersionClaim[]): string | null {
  const counts = new Map<string, number>();
  for (const claim of claims) if (claim.stack === stack) counts.set(claim.version, (counts.get(claim.version) ?? 0) + 1);
  let chosen: string | null = null;
  let chosenCount = 0;
  // Map iteration follows first insertion, which is scan order: a strict > keeps the shallowest on ties.
  for (const [version, count] of counts) {
    if (count > chosenCount) {
      chosen = version;
      chosenCount = count;
    }
  }
  return chosen;
}

/** By confidence, except that each stack is preceded by the detected stacks that imply it. */
function frameworksFirst(stacks: readonly DetectedStack[]): DetectedStack[] {
  const byConfidence = [...stacks].sort((a, b) => b.confidence - a.confidence || stackNames.indexOf(a.name) - stackNames.indexOf(b.name));
  const placed = new Set<StackName>();
  const ordered: DetectedStack[] = [];
  const place = (stack: DetectedStack): void => {
    if (placed.has(stack.name)) return;
    placed.add(stack.name);
    for (const framework of byConfidence) {
      if (implies[framework.name]?.includes(stack.name)) place(framework);
    }
    ordered.push(stack);
  };
  for (const stack of byConfidence) place(stack);
  return ordered;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
