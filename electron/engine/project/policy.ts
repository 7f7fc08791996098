/**
 * Which folders callers other than the command line may name. The HTTP API and the desktop window
 * can be reached by others than the user at the keyboard (a web page, another local process), so
 * every path they send — to index, detect, confirm, learn or ask about — must lie under one of the
 * allowed roots, checked on the canonical path so a symlink cannot lead outside.
 */
import { homedir } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { NpllmError } from '../../../shared/errors.js';
import { resolveProjectRoot } from './root.js';

export class ProjectPolicy {
  private readonly roots: string[];

  /** `allowedRoots` null: the home folder of the user running npllm. */
  constructor(allowedRoots: readonly string[] | null) {
    this.roots = (allowedRoots ?? [homedir()]).map((root) => resolve(root));
  }

  /** The canonical root of `path` when it lies under an allowed root; an error naming the fix otherwise. */
  async assertAllowed(path: string): Promise<string> {
    const target = await resolveProjectRoot(path);
    const inside = this.roots.some((root) => {
      const fromRoot = relative(root, target);
      return fromRoot === '' || (!fromRoot.startsWith('..') && !isAbsolute(fromRoot));
    });
    if (!inside) {
      throw new NpllmError('REQUEST_INVALID', `${target} is outside the folders this server may read (${this.roots.join(', ')}).`, {
        fix: 'Use a project under those folders, or add its parent to rag.allowedRoots in the server config.',
      });
    }
    return target;
  }
}
