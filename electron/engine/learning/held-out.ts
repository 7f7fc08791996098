/**
 * What a consolidation judges by (learning/README.md, "Held-out sample" and "Judge"): each project's
 * held-out files, frozen at the adapter's first look at the project, sampled in proportion from
 * every file (`heldOutSample`), scored in groups of whole files so that a comparison carries its
 * own noise estimate, and cached per (model, sample) so no version is scored twice on one sample.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupScore } from '../../../shared/learning-metrics.js';
import type { LearningConfig } from './config.js';
import { writeJsonl } from '../data-collection/training-data.js';
import { writeFileAtomic } from '../base/files.js';
import { heldOutSample, type HeldOutSample, type HeldOutText } from './dataset.js';

export interface FrozenHeldOut {
  file: string;
  /** sha256 of the frozen file. */
  hash: string;
  texts: HeldOutText[];
  units: Set<string>;
}

/** A model as the scorer knows it: the cache key is its content (an adapter's sha256, or the base's fingerprint), never a version number a reset database could reuse. */
export interface ScoredModel {
  /** Matrix row: 0 for the base, null for the version being judged (registered later). */
  version: number | null;
  key: string;
  file: string | null;
}

export interface PreparedSample {
  project: string;
  /** sha256 of the sample as scored (the window size and every group's texts): the matrix's held-out hash. */
  hash: string;
  groupFiles: string[];
  sample: HeldOutSample;
}

export interface MeasuredCell {
  version: number;
  project: string;
  nll: number;
  tokens: number;
  heldOutHash: string;
}

export function projectKey(project: string): string {
  return createHash('sha256').update(project).digest('hex').slice(0, 16);
}

export function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

function heldOutPath(home: string, adapter: string, project: string): string {
  return join(home, 'learning', adapter, 'heldout', `${projectKey(project)}.jsonl`);
}

/**
 * The held-out texts a project is judged on, frozen at the first consolidation that looked at it
 * (learned or measured for forward transfer): later versions are measured on the same files.
 */
export async function freezeHeldOut(home: string, adapter: string, project: string, heldOut: readonly HeldOutText[]): Promise<FrozenHeldOut> {
  const file = heldOutPath(home, adapter, project);
  await mkdir(join(home, 'learning', adapter, 'heldout'), { recursive: true });
  const texts = heldOut.map((text) => ({ unit: text.unit, text: text.text }));
  const { sha256 } = await writeJsonl(
    file,
    texts.map((text) => ({ text: text.text, unit: text.unit })),
  );
  return { file, hash: sha256, texts, units: new Set(texts.map((text) => text.unit)) };
}

/** A project's frozen held-out set, or null before the adapter first looked at it. */
export async function frozenHeldOut(home: string, adapter: string, project: string): Promise<FrozenHeldOut | null> {
  const file = heldOutPath(home, adapter, project);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const texts = content
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as { text?: string; unit?: string };
      return { unit: row.unit ?? '', text: row.text ?? '' };
    });
  return { file, hash: createHash('sha256').update(content).digest('hex'), texts, units: new Set(texts.map((text) => text.unit)) };
}

/** The texts a project was held out with for an adapter (the modulator's oracle examples), or null before its first consolidation. */
export async function heldOutTexts(home: string, adapter: string, project: string): Promise<{ text: string; unit: string }[] | null> {
  return (await frozenHeldOut(home, adapter, project))?.texts ?? null;
}

/**
 * Scores held-out samples with the trainer's `eval`, one run per group (the trainer prints one NLL
 * per run), through a cache in `<home>/learning/scores/<sample hash>.json` keyed by model, and keeps
 * every cell it used for the forgetting matrix.
 */
export class HeldOutScorer {
  private readonly used = new Map<string, MeasuredCell & { pending: boolean }>();

  constructor(
    private readonly home: string,
    private readonly scratch: string,
    private readonly options: Pick<LearningConfig, 'heldOutWindows' | 'evalGroups' | 'ctx'>,
    private readonly evaluate: (file: string, adapter: string | null) => Promise<GroupScore>,
  ) {}

  /** The project's sample as group files in the run's scratch folder; the sample's seed comes from the frozen set, so it is the same in every run. */
  async prepare(project: string, frozen: FrozenHeldOut): Promise<PreparedSample> {
    const sample = heldOutSample(frozen.texts, {
      windows: this.options.heldOutWindows,
      ctx: this.options.ctx,
      groups: this.options.evalGroups,
      seed: seedOf(frozen.hash),
    });
    const folder = join(this.scratch, 'heldout', projectKey(project));
    await mkdir(folder, { recursive: true });
    const hash = createHash('sha256').update(`ctx ${this.options.ctx}\n`);
    const groupFiles: string[] = [];
    for (let group = 0; group < sample.groups; group++) {
      const rows = sample.texts.filter((text) => text.group === group).map((text) => ({ text: text.text, unit: text.unit }));
      const file = join(folder, `group-${group}.jsonl`);
      const written = await writeJsonl(file, rows);
      hash.update(`${group} ${written.sha256}\n`);
      groupFiles.push(file);
    }
    return { project, hash: hash.digest('hex'), groupFiles, sample };
  }

  async scores(sample: PreparedSample, model: ScoredModel, checkAbort: () => void = () => undefined): Promise<GroupScore[]> {
    const cacheFile = join(this.home, 'learning', 'scores', `${sample.hash}.json`);
    const cache = await readCache(cacheFile);
    let groups = cache[model.key];
    if (!groups || groups.length !== sample.groupFiles.length) {
      groups = [];
      for (const file of sample.groupFiles) {
        checkAbort();
        groups.push(await this.evaluate(file, model.file));
      }
      await mkdir(join(this.home, 'learning', 'scores'), { recursive: true });
      // Read again: another adapter's run may have added its own models since.
      await writeCache(cacheFile, { ...(await readCache(cacheFile)), [model.key]: groups });
    }
    const tokens = groups.reduce((sum, group) => sum + group.tokens, 0);
    const nll = groups.reduce((sum, group) => sum + group.nll * group.tokens, 0) / tokens;
    this.used.set(`${model.version ?? 'new'}\u0000${sample.project}`, {
      version: model.version ?? -1,
      pending: model.version === null,
      project: sample.project,
      nll,
      tokens,
      heldOutHash: sample.hash,
    });
    return groups;
  }

  /** Every cell scored or reused in this run, the judged version's as `newVersion`. */
  cells(newVersion: number): MeasuredCell[] {
    return [...this.used.values()].map(({ pending, ...cell }) => ({ ...cell, version: pending ? newVersion : cell.version }));
  }
}

async function readCache(file: string): Promise<Record<string, GroupScore[]>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, GroupScore[]>;
  } catch (error) {
    // A missing cache is filled; an unreadable one (edited by hand) is measured again.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return {};
    throw error;
  }
}

async function writeCache(file: string, cache: Record<string, GroupScore[]>): Promise<void> {
  await writeFileAtomic(file, [Buffer.from(JSON.stringify(cache))]);
}
