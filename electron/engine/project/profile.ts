/**
 * How capabilities read a project's confirmed profile (its stacks) without reaching into context/'s
 * tables: context/ (ContextService) implements it, and adapter serving and learning are handed it.
 */
import type { ProjectProfile } from '../../../shared/contract.js';

export interface ProfileLookup {
  /** The latest confirmed profile of the project at this canonical root (project/root.ts), or null if none was confirmed. */
  profileOf(root: string): Promise<ProjectProfile | null>;
}
