/**
 * The adapter registry: every trained LoRA version as an immutable file
 * `<home>/adapters/<name>/v<version>.gguf` plus its row in `adapters`, and the channel rules —
 * new versions are experimental, at most one version per name is stable, promotion and rollback
 * move versions between channels in one transaction (adapters/README.md).
 */
import { rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { AdapterChannelChange, AdapterRecord } from '../../../shared/contract.js';
import { adapterNameSchema } from '../../../shared/contract.js';
import { AdapterError, RequestError } from '../../../shared/errors.js';
import type { Db } from '../db/client.js';
import { copyToScratch, syncFolder } from '../base/files.js';
import { inspectAdapter, type AdapterInfo, type BaseModelShapes } from './gguf.js';
import {
  archiveStable,
  findAdapter,
  insertAdapter,
  latestInChannel,
  listAdapters,
  lockAdapterName,
  nextAdapterVersion,
  previouslyPromoted,
  setAdapterChannel,
  type AdapterRow,
} from './queries.js';

export interface RegisterAdapter {
  name: string;
  /** `user`, or the stack whose projects it serves. */
  scope: string;
  project?: string | null;
  baseModel: string;
  /** LocalModel's identity fingerprint of the base the adapter was trained on. */
  baseModelFingerprint: string;
  parentVersion?: number | null;
  trainingRunId?: string | null;
  /** Accumulated importance (Ω) file; stored relative to the data folder. */
  importancePath?: string | null;
  metrics?: Record<string, unknown>;
  reason?: string | null;
  /** Checks architecture, targets and shapes against the base model too. */
  base?: BaseModelShapes;
  /** Remove the source file once registered (a trainer's output). */
  move?: boolean;
}

export class AdapterStore {
  constructor(
    private readonly db: Db,
    readonly home: string,
  ) {}

  folder(name: string): string {
    return join(this.home, 'adapters', checkName(name));
  }

  /** Absolute path of a registered version's file. */
  fileOf(record: Pick<AdapterRecord, 'path'>): string {
    return resolve(this.home, record.path);
  }

  /**
   * Copies a trained adapter in as the next version of `name`, experimental. The file is checked
   * first (rank, alpha and targets come from it), copied under a scratch name and flushed; the
   * version is allocated under the name's lock and the file renamed into place in the same
   * transaction that records it, so concurrent registrations never share a version.
   */
  async register(file: string, meta: RegisterAdapter): Promise<AdapterRecord> {
    const folder = this.folder(meta.name);
    const info = await inspectAdapter(file, { base: meta.base });
    const copy = await copyToScratch(file, folder);
    let placed: string | undefined;
    try {
      const row = await this.db.transaction(async (tx) => {
        await lockAdapterName(tx, meta.name);
        const version = await nextAdapterVersion(tx, meta.name);
        const target = join(folder, `v${version}.gguf`);
        await rename(copy.scratch, target);
        placed = target;
        return insertAdapter(tx, {
          ...this.rowOf(meta, info),
          version,
          channel: 'experimental',
          path: relative(this.home, target).split(sep).join('/'),
          sha256: copy.sha256,
          bytes: copy.bytes,
        });
      });
      await syncFolder(folder);
      if (meta.move) await rm(file, { force: true });
      return toAdapterRecord(row);
    } catch (error) {
      if (placed) await rm(placed, { force: true });
      throw error;
    } finally {
      await rm(copy.scratch, { force: true });
    }
  }

  async list(name?: string): Promise<AdapterRecord[]> {
    return (await listAdapters(this.db, name === undefined ? undefined : checkName(name))).map(toAdapterRecord);
  }

  async stable(name: string): Promise<AdapterRecord | null> {
    const row = await latestInChannel(this.db, checkName(name), 'stable');
    return row ? toAdapterRecord(row) : null;
  }

  /** The given version, or the newest experimental one, becomes stable; the stable one before it is archived. */
  async promote(name: string, version?: number, reason?: string): Promise<AdapterChannelChange> {
    checkName(name);
    return this.db.transaction(async (tx) => {
      await lockAdapterName(tx, name);
      const target = version === undefined ? await latestInChannel(tx, name, 'experimental') : await findAdapter(tx, name, version);
      if (!target) {
        throw new AdapterError(
          'ADAPTER_NOT_FOUND',
          version === undefined ? `Adapter ${name} has no experimental version to promote.` : `Adapter ${name} has no version ${version}.`,
          { fix: `List its versions with: npllm adapters list ${name}` },
        );
      }
      if (target.channel === 'stable') return { stable: toAdapterRecord(target), archived: null };
      await this.assertServable(target);
      const [archived] = await archiveStable(tx, name, { reason: `replaced by v${target.version}` });
      const stable = await setAdapterChannel(tx, name, target.version, { channel: 'stable', reason: reason ?? 'promoted', promotedAt: new Date() });
      return { stable: toAdapterRecord(stable), archived: archived ? toAdapterRecord(archived) : null };
    });
  }

  /**
   * The stable version is archived (with the reason) and the given version — by default the one
   * promoted before it — is stable again. A rolled-back version loses its promotion time, so a
   * second rollback walks further back instead of returning to it.
   */
  async rollback(name: string, version?: number, reason?: string): Promise<AdapterChannelChange> {
    checkName(name);
    return this.db.transaction(async (tx) => {
      await lockAdapterName(tx, name);
      const current = await latestInChannel(tx, name, 'stable');
      if (!current) {
        throw new AdapterError('ADAPTER_NOT_FOUND', `Adapter ${name} has no stable version to roll back.`, {
          fix: `Promote a version instead: npllm adapters promote ${name} VERSION`,
        });
      }
      const target = version === undefined ? await previouslyPromoted(tx, name, current.promotedAt ?? current.createdAt) : await findAdapter(tx, name, version);
      if (!target) {
        throw new AdapterError(
          'ADAPTER_NOT_FOUND',
          version === undefined
            ? `Adapter ${name} has no version promoted before v${current.version} to roll back to.`
            : `Adapter ${name} has no version ${version}.`,
          { fix: `Name the version to restore: npllm adapters rollback ${name} VERSION (npllm adapters list ${name} shows them).` },
        );
      }
      if (target.version === current.version) {
        throw new RequestError('CONFLICT', `Adapter ${name} v${current.version} is already the stable version.`, {
          fix: 'Name another version to roll back to.',
        });
      }
      await this.assertServable(target);
      const [archived] = await archiveStable(tx, name, { reason: `rolled back to v${target.version}${reason ? `: ${reason}` : ''}`, unpromote: true });
      const stable = await setAdapterChannel(tx, name, target.version, {
        channel: 'stable',
        reason: `restored by a rollback from v${current.version}`,
        promotedAt: target.promotedAt ?? new Date(),
      });
      return { stable: toAdapterRecord(stable), archived: archived ? toAdapterRecord(archived) : null };
    });
  }

  /** A version whose file is missing or changed never becomes stable. */
  private async assertServable(row: AdapterRow): Promise<void> {
    await inspectAdapter(this.fileOf(row), { sha256: row.sha256 });
  }

  private rowOf(meta: RegisterAdapter, info: AdapterInfo) {
    return {
      name: meta.name,
      scope: meta.scope,
      project: meta.project ?? null,
      baseModel: meta.baseModel,
      baseModelFingerprint: meta.baseModelFingerprint,
      parentVersion: meta.parentVersion ?? null,
      trainingRunId: meta.trainingRunId ?? null,
      importancePath: meta.importancePath ? this.relativeToHome(meta.importancePath) : null,
      metrics: meta.metrics ?? {},
      reason: meta.reason ?? null,
      rank: info.rank,
      alpha: info.alpha,
      targets: info.targets,
    };
  }

  private relativeToHome(path: string): string {
    if (!isAbsolute(path)) return path;
    const inside = relative(this.home, path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new RequestError('REQUEST_INVALID', `The importance file ${path} is outside the data folder ${this.home}.`, {
        fix: 'Write it under the data folder (e.g. next to the adapter).',
      });
    }
    return inside.split(sep).join('/');
  }
}

function checkName(name: string): string {
  if (!adapterNameSchema.safeParse(name).success) {
    throw new RequestError('REQUEST_INVALID', `"${name}" is not a valid adapter name.`, {
      fix: 'Use letters, digits, ".", "_" and "-" (at most 64), starting with a letter or digit.',
    });
  }
  return name;
}

export function toAdapterRecord(row: AdapterRow): AdapterRecord {
  return {
    name: row.name,
    version: row.version,
    channel: row.channel,
    scope: row.scope,
    project: row.project,
    baseModel: row.baseModel,
    baseModelFingerprint: row.baseModelFingerprint,
    parentVersion: row.parentVersion,
    trainingRunId: row.trainingRunId,
    path: row.path,
    sha256: row.sha256,
    bytes: row.bytes,
    rank: row.rank,
    alpha: row.alpha,
    targets: row.targets,
    importancePath: row.importancePath,
    metrics: row.metrics,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
    promotedAt: row.promotedAt?.toISOString() ?? null,
  };
}
