/**
 * Reading a file the walker found: what only its content can tell — binary, encoding, secrets by
 * shape — checked again against the open file, since the walk may be minutes old.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { cancelled } from '../../../shared/errors.js';
import { findSecret } from '../secrets/secrets.js';
import type { FileReadResult, WalkEntry } from './types.js';
import { checkMaxFileBytes, isInside, skipFor } from './walker.js';

export interface ReadOptions {
  maxFileBytes?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Where binary detection looks, as git does. */
const sniffBytes = 8192;
/** Latin-1 source (`café` in a comment) is text with a few bad bytes; more than this is not text. */
const maxInvalidUtf8Ratio = 0.01;
/** Share of control characters (other than tab, newlines, form feed, escape) above which a file is binary. */
const maxControlRatio = 0.1;

/**
 * Reads a walked file for indexing, or says why not. The walk may be minutes old, so size and
 * existence are checked again, against the open file rather than the path.
 */
export async function readProjectFile(entry: WalkEntry, options: ReadOptions = {}): Promise<FileReadResult> {
  const maxFileBytes = checkMaxFileBytes(options.maxFileBytes);
  if (options.signal?.aborted) throw cancelled('Indexing was cancelled.');
  if (entry.root !== undefined) {
    // The walk may be minutes old: a file swapped for a symlink to /etc/shadow since then is not read.
    const real = await realpath(entry.absolutePath).catch((error: unknown) => error as Error);
    if (real instanceof Error) return { ok: false, ...skipFor(real) };
    if (!isInside(entry.root, real)) return { ok: false, reason: 'outside-project', detail: `now a symlink to ${real}, outside the project` };
  }
  let handle: FileHandle;
  try {
    // Non-blocking, so a path swapped for a FIFO since the walk cannot hang the indexer.
    handle = await open(entry.absolutePath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { ok: false, ...skipFor(error) };
  }
  let bytes: Buffer;
  try {
    const fileStat = await handle.stat();
    if (!fileStat.isFile()) return { ok: false, reason: 'unreadable', detail: 'no longer a regular file' };
    if (fileStat.size > maxFileBytes) return { ok: false, reason: 'too-large', detail: `${fileStat.size} bytes, over the ${maxFileBytes}-byte limit` };
    const read = await readAtMost(handle, fileStat.size, maxFileBytes + 1);
    if (read.length > maxFileBytes) return { ok: false, reason: 'too-large', detail: `grew past the ${maxFileBytes}-byte limit` };
    bytes = read;
  } catch (error) {
    return { ok: false, ...skipFor(error) };
  } finally {
    await handle.close();
  }
  if (options.signal?.aborted) throw cancelled('Indexing was cancelled.');

  const decoded = decodeText(bytes);
  if (typeof decoded !== 'string') return { ok: false, reason: 'binary', detail: decoded.binary };
  const secret = findSecret(decoded);
  if (secret) return { ok: false, reason: 'secret', detail: `${secret.kind} on line ${secret.line}` };
  return { ok: true, content: decoded, contentHash: createHash('sha256').update(decoded, 'utf8').digest('hex') };
}

/** Reads until end of file or `limit` bytes, whichever comes first; `sizeHint` avoids a megabyte buffer per small file. */
async function readAtMost(handle: FileHandle, sizeHint: number, limit: number): Promise<Buffer> {
  let buffer = Buffer.allocUnsafe(Math.min(sizeHint + 1, limit));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length === limit) break;
      const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

/** The text, or why it is not text. */
function decodeText(bytes: Buffer): string | { binary: string } {
  const sample = bytes.subarray(0, sniffBytes);
  if (sample.includes(0)) return { binary: 'NUL byte in the first 8 KiB' };
  let control = 0;
  for (const byte of sample) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) || byte === 0x7f) control++;
  }
  if (sample.length > 0 && control / sample.length > maxControlRatio) return { binary: 'mostly control characters' };
  const text = new TextDecoder('utf-8').decode(bytes);
  if (isUtf8(bytes)) return text;
  const invalid =
    occurrences((from) => text.indexOf('\uFFFD', from), 1) - occurrences((from) => bytes.indexOf(encodedReplacement, from), encodedReplacement.length);
  if (invalid / bytes.length >= maxInvalidUtf8Ratio) return { binary: `not UTF-8 (${invalid} invalid sequences in ${bytes.length} bytes)` };
  return text;
}

/** U+FFFD spelled in the file itself is text, not a decoding failure. */
const encodedReplacement = Buffer.from('\uFFFD');

function occurrences(indexFrom: (from: number) => number, step: number): number {
  let count = 0;
  for (let at = indexFrom(0); at !== -1; at = indexFrom(at + step)) count++;
  return count;
}
