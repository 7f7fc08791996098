/** A project's stacks, detected from its metadata and confirmed by the user (context/). */
import { z } from 'zod';
import { pathRequestSchema } from './common.js';
import { method } from './method.js';

/** A stack detected from a project's metadata. */
export const detectedStackSchema = z.object({
  name: z.string(),
  version: z.string().nullable().describe('Major.minor as declared (or the Odoo series, the Rust edition); null when nothing declares it.'),
  confidence: z.number().describe('0..1 with two decimals: noisy-OR of the evidence weights (context/README.md).'),
  evidence: z.array(z.string()).describe('Strongest first; each names the file or folder it comes from: `package.json depends on next ^14.2.3`.'),
});
export type DetectedStack = z.infer<typeof detectedStackSchema>;

export const contextProposalSchema = z.object({
  root: z.string().describe('Absolute path of the folder that was scanned.'),
  stacks: z.array(detectedStackSchema).describe('Most likely first; a framework precedes the base stacks it implies. Empty: not a recognised project.'),
  scannedFiles: z.number(),
  truncated: z.boolean().describe('True when the depth, entry or manifest limits left part of the tree unread.'),
  elapsedMs: z.number(),
  extensions: z.record(z.string(), z.number()).describe('The most frequent file extensions (lower-case, with the dot) among the scanned files.'),
});
export type ContextProposal = z.infer<typeof contextProposalSchema>;

export const confirmContextRequestSchema = z.strictObject({
  path: z.string().min(1).max(4096),
  /** The stacks the user confirms; omitted = the detected proposal as it is. */
  stacks: z
    .array(z.strictObject({ name: z.string().min(1).max(64), version: z.string().min(1).max(32).nullable().optional() }))
    .max(32)
    .optional(),
});

/** The confirmed, versioned description of a project that conditions learning and the modulator. */
export const projectProfileSchema = z.object({
  root: z.string(),
  version: z.number().describe('1 for the first confirmation; each later confirmation adds a version.'),
  stacks: z.array(detectedStackSchema),
  edited: z.boolean().describe('The user changed the proposal (added, removed or re-versioned a stack).'),
  contextVector: z.array(z.number()),
  confirmedAt: z.string(),
});
export type ProjectProfile = z.infer<typeof projectProfileSchema>;

export const contextMethods = {
  'context/detect': method({
    summary: "Propose a project's stacks from its metadata (manifests and file names only).",
    request: pathRequestSchema,
    response: contextProposalSchema,
  }),
  'context/confirm': method({
    summary: "Store the project's profile: the proposal, or the stacks given.",
    request: confirmContextRequestSchema,
    response: projectProfileSchema,
  }),
  'context/get': method({
    summary: "The project's confirmed profile, if any.",
    request: pathRequestSchema,
    response: z.object({ profile: projectProfileSchema.nullable() }),
  }),
};
