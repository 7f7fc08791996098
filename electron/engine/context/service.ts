/**
 * Project context as the user confirms it: detection proposes stacks from metadata, the user keeps,
 * drops, adds or re-versions them, and the result is stored as the next version of the project's
 * profile with its context vector (context/README.md).
 */
import type { ContextProposal, DetectedStack, ProjectProfile } from '../../../shared/contract.js';
import { contextVector, stackNames } from '../../../shared/context-vector.js';
import { RequestError } from '../../../shared/errors.js';
import type { Db } from '../db/client.js';
import type { ProfileLookup } from '../project/profile.js';
import { resolveProjectRoot } from '../project/root.js';
import { detectContext } from './detect.js';
import { insertProfile, latestProfile, type ProfileRow } from './queries.js';

export interface StackChoice {
  name: string;
  version?: string | null | undefined;
}

export class ContextService implements ProfileLookup {
  constructor(private readonly db: Db) {}

  async detect(path: string): Promise<ContextProposal> {
    return detectContext(await resolveProjectRoot(path));
  }

  /** Stores the proposal as it is, or the user's choice of stacks, as the project's next profile version. */
  async confirm(path: string, choice?: readonly StackChoice[]): Promise<ProjectProfile> {
    const proposal = await this.detect(path);
    const stacks = choice ? chosenStacks(proposal.stacks, choice) : proposal.stacks.map((stack) => confirmed(stack));
    if (stacks.length === 0) {
      throw new RequestError('REQUEST_INVALID', `Nothing was detected in ${proposal.root} to confirm.`, {
        fix: `Name the stacks yourself: npllm context confirm ${proposal.root} --stack NAME (one of ${stackNames.join(', ')}).`,
      });
    }
    const edited = !sameStacks(stacks, proposal.stacks);
    const row = await insertProfile(this.db, { root: proposal.root, stacks, proposal: proposal.stacks, edited, contextVector: vectorOf(stacks) });
    return toProfile(row);
  }

  /** The profile of the folder at `path` (any spelling of it: it is resolved first). */
  async get(path: string): Promise<ProjectProfile | null> {
    return this.profileOf(await resolveProjectRoot(path));
  }

  async profileOf(root: string): Promise<ProjectProfile | null> {
    const row = await latestProfile(this.db, root);
    return row ? toProfile(row) : null;
  }
}

/** A stack the user confirmed is certain: confidence 1, whatever detection thought. */
function confirmed(stack: DetectedStack, version: string | null = stack.version): DetectedStack {
  return { name: stack.name, version, confidence: 1, evidence: [...stack.evidence, 'confirmed by the user'] };
}

function chosenStacks(proposed: readonly DetectedStack[], choice: readonly StackChoice[]): DetectedStack[] {
  const unknown = choice.filter((stack) => !(stackNames as readonly string[]).includes(stack.name));
  if (unknown.length) {
    throw new RequestError('REQUEST_INVALID', `Unknown stack ${unknown.map((stack) => `"${stack.name}"`).join(', ')}.`, {
      fix: `Use one of: ${stackNames.join(', ')}.`,
    });
  }
  const seen = new Set<string>();
  return choice
    .filter((stack) => !seen.has(stack.name) && seen.add(stack.name))
    .map((stack) => {
      const detected = proposed.find((candidate) => candidate.name === stack.name);
      if (detected) return confirmed(detected, stack.version === undefined ? detected.version : stack.version);
      return { name: stack.name, version: stack.version ?? null, confidence: 1, evidence: ['added by the user'] };
    });
}

function sameStacks(chosen: readonly DetectedStack[], proposed: readonly DetectedStack[]): boolean {
  const key = (stacks: readonly DetectedStack[]) => stacks.map((stack) => `${stack.name}@${stack.version ?? ''}`).join(',');
  return key(chosen) === key(proposed);
}

function vectorOf(stacks: readonly DetectedStack[]): number[] {
  return Array.from(contextVector(stacks), (value) => Math.round(value * 1e4) / 1e4);
}

function toProfile(row: ProfileRow): ProjectProfile {
  return {
    root: row.root,
    version: row.version,
    stacks: row.stacks,
    edited: row.edited,
    contextVector: row.contextVector,
    confirmedAt: row.confirmedAt.toISOString(),
  };
}
