/**
 * What a project is, once for every capability: a folder, named by its canonical path (symlinks
 * and trailing slashes resolved), so that its index, profile, feedback, metrics and learning are
 * never split across two spellings of one folder.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { NpllmError } from '../../../shared/errors.js';

/** The folder's canonical path, or an error naming what is wrong with it. */
export async function resolveProjectRoot(path: string): Promise<string> {
  let root: string;
  try {
    root = await realpath(path);
  } catch (cause) {
    throw new NpllmError('NOT_FOUND', `The project folder ${path} does not exist.`, { cause, fix: 'Pass the path of an existing folder.' });
  }
  if (!(await stat(root)).isDirectory()) {
    throw new NpllmError('REQUEST_INVALID', `${path} is a file, not a project folder.`, { fix: 'Pass the folder that contains the project.' });
  }
  return root;
}

/** A short stable id of a project's canonical path: its key in the index and in learning's files. */
export function projectId(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 16);
}
