import type { StackName } from '../../../shared/context-vector.js';
import type { ContextProposal as ContractProposal, DetectedStack as ContractStack } from '../../../shared/contract.js';

export interface DetectOptions {
  /** Folders deeper than this below the root are not listed (the root is depth 0). */
  maxDepth: number;
  /** Directory entries looked at in total; the scan stops there and reports `truncated`. */
  maxEntries: number;
  /** Entries looked at in one folder, so one huge folder cannot use up the whole budget. */
  maxEntriesPerFolder: number;
  /** Manifests larger than this are not read; their name still counts, with a note. */
  maxManifestBytes: number;
  /** Manifests read at most (a monorepo or an addons repository can hold hundreds). */
  maxManifests: number;
  /** How many of the most frequent extensions the proposal lists. */
  topExtensions: number;
  /** Stacks below this confidence are left out of the proposal. */
  minConfidence: number;
  signal: AbortSignal | undefined;
}

/** The contract's stack, with its name narrowed to the stacks detection knows. */
export interface DetectedStack extends ContractStack {
  name: StackName;
}

/** What detection proposes; the user confirms or corrects it before it is stored. */
export interface ContextProposal extends Omit<ContractProposal, 'stacks'> {
  stacks: DetectedStack[];
}
