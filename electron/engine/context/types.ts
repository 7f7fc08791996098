import type { StackName } from '../../../shared/context-vector.js';

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

export interface DetectedStack {
  name: StackName;
  /** Major.minor as declared (or the Odoo series, the Rust edition); null when nothing declares it. */
  version: string | null;
  /** 0..1 with two decimals: noisy-OR of the evidence weights (README.md). */
  confidence: number;
  /** Strongest first; each names the file or folder it comes from. */
  evidence: string[];
}

/** What detection proposes; the user confirms or corrects it before it is stored. */
export interface ContextProposal {
  /** Absolute path of the folder that was scanned. */
  root: string;
  /** Most likely first; a framework precedes the base stacks it implies. Empty: not a recognised project. */
  stacks: DetectedStack[];
  scannedFiles: number;
  /** True when the depth, entry or manifest limits left part of the tree unread. */
  truncated: boolean;
  elapsedMs: number;
  /** The most frequent file extensions (lower-case, with the dot) among the scanned files. */
  extensions: Record<string, number>;
}
