/**
 * Which adapters answer a question: the stable version (or, on request, the newest experimental
 * one) of every adapter whose scope is `user` or one of the project's confirmed stacks, trained on
 * this very base model, whose file is intact and fits the base, and which was not measured worse
 * than the base on this project (`measuredHarm`). Anything else is left out — a broken one logged
 * once and listed in health — and the question is answered without it: a broken adapter never
 * takes serving down.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AdapterUse, SkippedAdapter } from '../../../shared/contract.js';
import { AdapterError, toNpllmError, type NpllmError } from '../../../shared/errors.js';
import type { Db } from '../db/client.js';
import type { LogLevel } from '../base/log.js';
import type { ModelIdentity, ServedAdapter } from '../model/local-model.js';
import type { ProfileLookup } from '../project/profile.js';
import { inspectAdapter, readBaseModelShapes, type AdapterInfo, type BaseModelShapes } from './gguf.js';
import { servableAdapters, type AdapterRow } from './queries.js';

export type AdapterChannelChoice = 'stable' | 'experimental';

export interface AdapterPlan {
  /** What the model applies, in order. */
  apply: ServedAdapter[];
  skipped: SkippedAdapter[];
}

/** An adapter version whose file passed every check against the base: the modulator may give it a scale. */
export interface ServableCandidate {
  name: string;
  version: string;
  scope: string;
  channel: string;
  /** Absolute path of its GGUF. */
  path: string;
}

/** The ask pipeline's view of adapter serving. */
export interface AdapterPlanner {
  plan(request: { project: string | null; channel: AdapterChannelChoice }, base: ModelIdentity): Promise<AdapterPlan>;
  /**
   * Every servable adapter (the chosen version per name, checked), whatever its scope: the project's
   * stacks in the confirmed order first, then `user`, then the others by name. Which of them
   * apply, and how loud, is the modulator's decision.
   */
  candidates(
    request: { project: string | null; channel: AdapterChannelChoice },
    base: ModelIdentity,
  ): Promise<{ candidates: ServableCandidate[]; skipped: SkippedAdapter[] }>;
}

export interface AdapterServingOptions {
  home: string;
  defaultScale: number;
  maxActive: number;
  log?: (level: LogLevel, message: string) => void;
}

export class AdapterServing implements AdapterPlanner {
  private baseShapes: { key: string; shapes: Promise<BaseModelShapes> } | undefined;
  /** Checks of adapter files, by path, size, mtime and registered hash: each file is read once while unchanged. */
  private readonly checked = new Map<string, Promise<AdapterInfo>>();
  /** Versions currently left out, by `name@version`, for health. */
  private readonly problems = new Map<string, SkippedAdapter>();

  constructor(
    private readonly db: Db,
    private readonly profiles: ProfileLookup,
    private readonly options: AdapterServingOptions,
  ) {}

  async plan(request: { project: string | null; channel: AdapterChannelChoice }, base: ModelIdentity): Promise<AdapterPlan> {
    if (this.options.maxActive === 0) return { apply: [], skipped: [] };
    const rows = await servableAdapters(this.db);
    if (rows.length === 0) return { apply: [], skipped: [] };
    const stacks = request.project ? ((await this.profiles.profileOf(request.project))?.stacks.map((stack) => stack.name) ?? []) : [];
    const candidates = chooseVersions(rows, request.channel)
      .filter((row) => row.scope === 'user' || stacks.includes(row.scope))
      // The project's stacks in the order the user confirmed them (most specific first), then the user's own.
      .sort((a, b) => scopeRank(a.scope, stacks) - scopeRank(b.scope, stacks) || a.name.localeCompare(b.name));

    const apply: ServedAdapter[] = [];
    const skipped: SkippedAdapter[] = [];
    for (const row of candidates) {
      const harm = request.project ? measuredHarm(row, request.project) : null;
      if (harm) {
        // Not a broken file: a measurement, so it stays out of health's problems.
        skipped.push({ name: row.name, version: String(row.version), code: 'TRANSFER', reason: harm });
        continue;
      }
      const problem = await this.check(row, base);
      if (problem) {
        skipped.push(this.note(row, problem));
        continue;
      }
      this.problems.delete(`${row.name}@${row.version}`);
      if (apply.length >= this.options.maxActive) {
        skipped.push({
          name: row.name,
          version: String(row.version),
          code: 'LIMIT',
          reason: `adapters.maxActive (${this.options.maxActive}) adapters already apply`,
        });
        continue;
      }
      apply.push({ name: row.name, version: String(row.version), scale: this.options.defaultScale, path: resolve(this.options.home, row.path) });
    }
    return { apply, skipped };
  }

  async candidates(
    request: { project: string | null; channel: AdapterChannelChoice },
    base: ModelIdentity,
  ): Promise<{ candidates: ServableCandidate[]; skipped: SkippedAdapter[] }> {
    if (this.options.maxActive === 0) return { candidates: [], skipped: [] };
    const rows = await servableAdapters(this.db);
    if (rows.length === 0) return { candidates: [], skipped: [] };
    const stacks = request.project ? ((await this.profiles.profileOf(request.project))?.stacks.map((stack) => stack.name) ?? []) : [];
    const rank = (scope: string) => (scope === 'user' ? stacks.length : stacks.includes(scope) ? stacks.indexOf(scope) : stacks.length + 1);
    const ordered = chooseVersions(rows, request.channel).sort((a, b) => rank(a.scope) - rank(b.scope) || a.name.localeCompare(b.name));
    const candidates: ServableCandidate[] = [];
    const skipped: SkippedAdapter[] = [];
    for (const row of ordered) {
      const problem = await this.check(row, base);
      if (problem) {
        skipped.push(this.note(row, problem));
        continue;
      }
      this.problems.delete(`${row.name}@${row.version}`);
      candidates.push({ name: row.name, version: String(row.version), scope: row.scope, channel: row.channel, path: resolve(this.options.home, row.path) });
    }
    return { candidates, skipped };
  }

  /** Adapter versions left out of answers since they were last found broken. */
  skipped(): SkippedAdapter[] {
    return [...this.problems.values()];
  }

  private async check(row: AdapterRow, base: ModelIdentity): Promise<NpllmError | null> {
    if (row.baseModelFingerprint !== base.fingerprint) {
      return new AdapterError(
        'ADAPTER_MISMATCH',
        `Adapter ${row.name} v${row.version} was trained on ${row.baseModel} (fingerprint ${row.baseModelFingerprint}), not on the model being served, ${base.name} (${base.fingerprint}).`,
        { fix: 'Serve the base model it was trained on, or train the adapter again on this one.' },
      );
    }
    const path = resolve(this.options.home, row.path);
    try {
      const file = await stat(path).catch(() => null);
      const key = `${path}|${file?.size}|${file?.mtimeMs}|${row.sha256}`;
      let check = this.checked.get(key);
      if (!check) {
        const shapes = await this.shapesOf(base);
        check = inspectAdapter(path, { base: shapes, sha256: row.sha256 });
        this.checked.set(key, check);
      }
      await check;
      return null;
    } catch (error) {
      return toNpllmError(error);
    }
  }

  private shapesOf(base: ModelIdentity): Promise<BaseModelShapes> {
    const key = `${base.path}|${base.fingerprint}`;
    if (this.baseShapes?.key !== key) {
      const shapes = readBaseModelShapes(base.path);
      this.baseShapes = { key, shapes };
      shapes.catch(() => {
        if (this.baseShapes?.shapes === shapes) this.baseShapes = undefined;
      });
    }
    return this.baseShapes.shapes;
  }

  private note(row: AdapterRow, problem: NpllmError): SkippedAdapter {
    const key = `${row.name}@${row.version}`;
    const skipped = { name: row.name, version: String(row.version), code: problem.code, reason: problem.message };
    if (this.problems.get(key)?.reason !== skipped.reason) {
      this.options.log?.('warn', `adapter ${row.name} v${row.version} left out of answers: ${problem.message}${problem.fix ? ` Fix: ${problem.fix}` : ''}`);
    }
    this.problems.set(key, skipped);
    return skipped;
  }
}

/**
 * The forward-transfer rule (learning/README.md, "Forward transfer"): a version is left out of a
 * project it never learned when its consolidation measured it there significantly worse than the
 * base model (held-out NLL up by more than learning.forgettingTolerance plus learning.significance
 * standard errors, recorded in the version's metrics). A measured harm, not a guess: projects it
 * was not measured on keep it.
 */
function measuredHarm(row: AdapterRow, project: string): string | null {
  const transfer = (row.metrics as { transfer?: Record<string, { significant?: unknown; before?: unknown; after?: unknown }> }).transfer;
  const test = transfer?.[project];
  if (!test || test.significant !== true || typeof test.before !== 'number' || typeof test.after !== 'number') return null;
  return `measured worse than the base model on this project it has not learned: held-out NLL ${test.before.toFixed(3)} → ${test.after.toFixed(3)}`;
}

/** Per name: the stable version, or for `experimental` the newest experimental one (stable where there is none). */
function chooseVersions(rows: AdapterRow[], channel: AdapterChannelChoice): AdapterRow[] {
  const byName = new Map<string, AdapterRow>();
  for (const row of rows) {
    const chosen = byName.get(row.name);
    const preferred = channel === 'experimental' ? 'experimental' : 'stable';
    if (row.channel !== preferred && row.channel !== 'stable') continue;
    if (!chosen || rankOf(row, preferred) < rankOf(chosen, preferred) || (rankOf(row, preferred) === rankOf(chosen, preferred) && row.version > chosen.version))
      byName.set(row.name, row);
  }
  return [...byName.values()];
}

function rankOf(row: AdapterRow, preferred: string): number {
  return row.channel === preferred ? 0 : 1;
}

function scopeRank(scope: string, stacks: string[]): number {
  const index = stacks.indexOf(scope);
  return index === -1 ? stacks.length : index;
}

/** What an answer reports of the adapters it used. */
export function adapterUses(adapters: readonly ServedAdapter[]): AdapterUse[] {
  return adapters.map(({ name, version, scale }) => ({ name, version, scale }));
}
