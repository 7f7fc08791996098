/**
 * Modulator versions: each network is a JSON file `<home>/modulator/v<N>.json` written atomically,
 * plus a row (`modulator_versions`) with its hash and how it was judged; versions are
 * experimental, stable (at most one: the one answers use) or archived, like adapters. No stable
 * version means the prior: a fresh network, whose output layers are zero.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { ModulatorMetrics } from '../../../shared/contract.js';
import { ModulatorError } from '../../../shared/errors.js';
import { writeFileAtomic } from '../base/files.js';
import type { Db } from '../db/client.js';
import { ModulatorNetwork, type NetworkOptions } from './network.js';
import { findVersion, promoteVersion, registerVersion, stableVersion, type ModulatorVersionRow } from './queries.js';

export interface LoadedVersion {
  network: ModulatorNetwork;
  /** 0: the prior. */
  version: number;
  /** Why the stable version could not be used, when the prior stands in for it. */
  fallback: string | null;
}

export class ModulatorStore {
  constructor(
    private readonly db: Db,
    private readonly home: string,
    /** The layout this configuration needs (levels, budget levels); a stored network of another layout is refused. */
    private readonly shape: Partial<NetworkOptions>,
  ) {}

  /** A network that is exactly the prior. */
  prior(): ModulatorNetwork {
    return new ModulatorNetwork(this.shape);
  }

  stableRow(): Promise<ModulatorVersionRow | null> {
    return stableVersion(this.db);
  }

  /** The stable version's network, or the prior with the reason when there is none or it cannot be used. */
  async loadStable(): Promise<LoadedVersion> {
    const row = await stableVersion(this.db);
    if (!row) return { network: this.prior(), version: 0, fallback: null };
    try {
      return { network: await this.read(row), version: row.version, fallback: null };
    } catch (error) {
      return { network: this.prior(), version: 0, fallback: (error as Error).message };
    }
  }

  async load(version: number): Promise<ModulatorNetwork> {
    const row = await findVersion(this.db, version);
    if (!row) throw new ModulatorError('NOT_FOUND', `There is no modulator version ${version}.`, { fix: 'List the versions with npllm modulator status.' });
    return this.read(row);
  }

  /** Reads and checks a version's file: its hash, its format, its layout against the configuration. */
  async read(row: ModulatorVersionRow): Promise<ModulatorNetwork> {
    const path = resolve(this.home, row.path);
    const fix = 'Roll back to the prior by removing the file (answers then use the rules), or run npllm modulator learn to fit a new version.';
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new ModulatorError('MODULATOR_INVALID', `Modulator v${row.version}'s file ${path} cannot be read: ${(cause as Error).message}.`, { cause, fix });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== row.sha256)
      throw new ModulatorError(
        'MODULATOR_INVALID',
        `Modulator v${row.version}'s file ${path} changed since it was registered (SHA-256 ${sha256.slice(0, 12)}…, expected ${row.sha256.slice(0, 12)}…).`,
        { fix },
      );
    let network: ModulatorNetwork;
    try {
      network = ModulatorNetwork.fromJSON(JSON.parse(bytes.toString('utf8')));
    } catch (cause) {
      throw new ModulatorError('MODULATOR_INVALID', `Modulator v${row.version}'s file ${path} is not a usable network: ${(cause as Error).message}.`, {
        cause,
        fix,
      });
    }
    const mismatch = (['levels', 'budgetLevels', 'embedding', 'context', 'adapterFeatures'] as const).find(
      (key) => this.shape[key] !== undefined && network.options[key] !== this.shape[key],
    );
    if (mismatch) {
      throw new ModulatorError(
        'MODULATOR_INVALID',
        `Modulator v${row.version} was built with ${mismatch} = ${network.options[mismatch]}, the configuration needs ${this.shape[mismatch]}.`,
        { fix: 'Fit a new version for this configuration (npllm modulator learn), or restore the setting it was built with.' },
      );
    }
    return network;
  }

  /** Writes the network and registers it as experimental. */
  async save(
    network: ModulatorNetwork,
    meta: { origin: 'offline' | 'online'; parentVersion: number | null; metrics: ModulatorMetrics; reason: string | null },
  ): Promise<ModulatorVersionRow> {
    const text = JSON.stringify(network.toJSON());
    const bytes = new TextEncoder().encode(text);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return registerVersion(
      this.db,
      { origin: meta.origin, parentVersion: meta.parentVersion, sha256, params: network.parameterCount, metrics: meta.metrics, reason: meta.reason },
      async (version) => {
        // A file whose row never commits is overwritten by the next registration of that number.
        const relative = join('modulator', `v${version}.json`);
        const path = resolve(this.home, relative);
        await mkdir(dirname(path), { recursive: true });
        await writeFileAtomic(path, [bytes]);
        return relative;
      },
    );
  }

  promote(version: number, reason: string): Promise<void> {
    return promoteVersion(this.db, version, reason);
  }
}
