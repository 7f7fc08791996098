/**
 * The forgetting matrix of one adapter and what it summarises to (metrics/README.md): held-out NLL
 * of each version (row, version 0 = the base model) on each project (column), the gain over the
 * base, and backward transfer. Pure, so `npllm stats --learning`, the dashboard and the learning
 * benchmark compute the same numbers from the same cells.
 */
import type { AdapterChannelName, AdapterLearningStats } from './contract.js';

/** One measured cell: held-out NLL (mean per token) of `version` on `project`'s held-out set. */
export interface EvaluationCell {
  version: number;
  project: string;
  nll: number;
  /** Cells of one project measured on different held-out sets are never compared. */
  heldOutHash?: string | undefined;
  /** ISO 8601; the newest cell of a project decides which held-out set counts. */
  measuredAt?: string | undefined;
}

export interface AdapterVersionInfo {
  version: number;
  channel: AdapterChannelName;
  /** The project whose consolidation produced it (the training run's project); null for one registered by hand. */
  project: string | null;
  createdAt?: string | null | undefined;
  /**
   * The version it was trained from. null: trained from a fresh adapter. Omitted: the preceding
   * version, for callers (benchmarks) that train a plain sequence and do not track parents.
   */
  parentVersion?: number | null | undefined;
}

export type LearningMatrix = Omit<AdapterLearningStats, 'runs'>;

/** (base − nll) / base: the share of the base model's NLL a version removed; null when either is unknown. */
export function relativeGain(base: number | null | undefined, nll: number | null | undefined): number | null {
  if (base === null || base === undefined || nll === null || nll === undefined) return null;
  // A non-positive or non-finite base cannot be a per-token NLL: no share of it means anything.
  if (!(base > 0) || !Number.isFinite(base) || !Number.isFinite(nll)) return null;
  return (base - nll) / base;
}

/**
 * Held-out NLL of one evaluation group: a set of whole held-out files (or, for a project with too
 * few files, of windows) scored in one trainer run. Groups are the units of the noise estimate.
 */
export interface GroupScore {
  nll: number;
  tokens: number;
}

/**
 * One version against another on the same held-out tokens: token-weighted mean NLL of each,
 * `change` = after − before (below 0 is better), and the standard error of that change estimated
 * from the paired per-group changes (a ratio estimator's linearised variance, clustered by group):
 * SE² = K/(K−1) · Σ (t_g/T)² (d_g − change)². Files differ in how much a version helps them, so
 * clustering by file, not by window, is what keeps a handful of favourable files from looking
 * like a sure gain. Infinite with fewer than two groups: no spread can be measured.
 */
export interface PairedChange {
  before: number;
  after: number;
  change: number;
  standardError: number;
  groups: number;
  tokens: number;
}

export function pairedChange(before: readonly GroupScore[], after: readonly GroupScore[]): PairedChange {
  if (before.length !== after.length || before.length === 0)
    throw new Error(`Paired scores need the same groups on both sides (${before.length} before, ${after.length} after).`);
  const total = before.reduce((sum, group) => sum + group.tokens, 0);
  if (!(total > 0)) throw new Error('Paired scores scored no tokens.');
  let beforeSum = 0;
  let afterSum = 0;
  for (const [index, group] of before.entries()) {
    // The same tokens: a group that scored a different count was not the same text.
    if (after[index]!.tokens !== group.tokens) throw new Error(`Group ${index} scored ${group.tokens} tokens before and ${after[index]!.tokens} after.`);
    beforeSum += group.tokens * group.nll;
    afterSum += group.tokens * after[index]!.nll;
  }
  const change = (afterSum - beforeSum) / total;
  const k = before.length;
  let spread = 0;
  for (const [index, group] of before.entries()) spread += (group.tokens / total) ** 2 * (after[index]!.nll - group.nll - change) ** 2;
  const standardError = k < 2 ? Number.POSITIVE_INFINITY : Math.sqrt((k / (k - 1)) * spread);
  return { before: beforeSum / total, after: afterSum / total, change, standardError, groups: k, tokens: total };
}

/**
 * The noise-aware tests every learning decision uses (learning/README.md, "Judge"), with z the
 * number of standard errors a change must clear (learning.significance):
 * - **gained**: the NLL dropped by more than `minImprovement` plus z standard errors;
 * - **worsened**: the NLL rose by more than `tolerance` of its value plus z standard errors.
 * The same test decides whether a new version forgot an earlier project and whether serving
 * leaves a version out of a project it never learned.
 */
export function significantGain(change: PairedChange, options: { minImprovement: number; significance: number }): boolean {
  return -change.change > options.minImprovement + options.significance * change.standardError;
}

export function significantWorsening(change: PairedChange, options: { tolerance: number; significance: number }): boolean {
  return change.change > options.tolerance * change.before + options.significance * change.standardError;
}

/** Mean and sample standard deviation (0 for one value), for results over seeds. */
export function meanAndSpread(values: readonly number[]): { mean: number; sd: number; n: number } | null {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  const mean = finite.reduce((sum, value) => sum + value, 0) / finite.length;
  const sd = finite.length < 2 ? 0 : Math.sqrt(finite.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (finite.length - 1));
  return { mean, sd, n: finite.length };
}

/**
 * Backward transfer (Lopez-Paz & Ranzato, 2017, with gain in place of accuracy) of the version
 * that serves — the stable one, else the newest that learned a project: the mean, over the
 * projects learned by its ancestors, of gain(it, p) − gain(the ancestor that learned p, p).
 * Ancestors, not every earlier version: a version kept experimental was never built upon, so
 * the served version cannot have forgotten what only it learned. < 0 is forgetting; null with
 * fewer than two learned projects or no measured pair.
 */
export function backwardTransfer(
  versions: readonly AdapterVersionInfo[],
  gain: (version: number, project: string) => number | null,
): { bwt: number | null; version: number | null } {
  const byVersion = new Map(versions.filter((info) => info.version > 0).map((info) => [info.version, info]));
  const final = finalVersion([...byVersion.values()]);
  if (!final) return { bwt: null, version: null };
  const ascending = [...byVersion.keys()].sort((a, b) => a - b);
  const parentOf = (info: AdapterVersionInfo): number | null =>
    info.parentVersion === undefined ? (ascending.filter((version) => version < info.version).at(-1) ?? null) : info.parentVersion;

  // Walking back from the final version, the first ancestor met for a project is the latest that learned it.
  const learnedBy = new Map<string, number>();
  const seen = new Set<number>([final.version]);
  for (let parent = parentOf(final); parent !== null && !seen.has(parent);) {
    seen.add(parent);
    const ancestor = byVersion.get(parent);
    if (!ancestor) break;
    if (ancestor.project !== null && ancestor.project !== final.project && !learnedBy.has(ancestor.project)) learnedBy.set(ancestor.project, ancestor.version);
    parent = parentOf(ancestor);
  }
  const learned = learnedBy.size + (final.project === null ? 0 : 1);
  if (learned < 2) return { bwt: null, version: final.version };
  const differences: number[] = [];
  for (const [project, version] of learnedBy) {
    const after = gain(final.version, project);
    const when = gain(version, project);
    if (after !== null && when !== null) differences.push(after - when);
  }
  return { bwt: differences.length === 0 ? null : differences.reduce((sum, value) => sum + value, 0) / differences.length, version: final.version };
}

/**
 * Forward transfer (Lopez-Paz & Ranzato, 2017, with gain in place of accuracy and the base model
 * as the reference): the mean, over the projects learned along the serving version's ancestry
 * (the first excepted), of the gain the version *before* learning p already had on p — what the
 * earlier projects taught about a project not yet seen. null when no such cell was measured.
 */
export function forwardTransfer(versions: readonly AdapterVersionInfo[], gain: (version: number, project: string) => number | null): number | null {
  const byVersion = new Map(versions.filter((info) => info.version > 0).map((info) => [info.version, info]));
  const final = finalVersion([...byVersion.values()]);
  if (!final) return null;
  const ascending = [...byVersion.keys()].sort((a, b) => a - b);
  const parentOf = (info: AdapterVersionInfo): number | null =>
    info.parentVersion === undefined ? (ascending.filter((version) => version < info.version).at(-1) ?? null) : info.parentVersion;
  const values: number[] = [];
  const seen = new Set<number>();
  for (let info: AdapterVersionInfo | undefined = final; info && !seen.has(info.version); info = byVersion.get(parentOf(info) ?? -1)) {
    seen.add(info.version);
    const parent = parentOf(info);
    if (info.project === null || parent === null) continue;
    const before = gain(parent, info.project);
    if (before !== null) values.push(before);
  }
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function finalVersion(versions: readonly AdapterVersionInfo[]): AdapterVersionInfo | null {
  const stable = versions.find((info) => info.channel === 'stable');
  if (stable) return stable;
  const learning = versions.filter((info) => info.project !== null).sort((a, b) => b.version - a.version);
  return learning[0] ?? null;
}

/**
 * The matrix of one adapter. Columns: projects in the order the adapter first learned them (the
 * lowest version whose project it is), then projects only evaluated, by name. Rows: version 0
 * (the base) then every registered or evaluated version, ascending. A cell measured on another
 * held-out set than its project's newest cell is left out (null): the numbers are not comparable.
 */
export function learningMatrix(adapter: string, versions: readonly AdapterVersionInfo[], cells: readonly EvaluationCell[]): LearningMatrix {
  const infos = new Map(versions.filter((info) => info.version > 0).map((info) => [info.version, info]));

  const firstLearned = new Map<string, number>();
  for (const info of infos.values()) {
    if (info.project !== null && info.version < (firstLearned.get(info.project) ?? Infinity)) firstLearned.set(info.project, info.version);
  }
  const learned = [...firstLearned.keys()].sort((a, b) => firstLearned.get(a)! - firstLearned.get(b)! || compare(a, b));
  const onlyEvaluated = [...new Set(cells.map((cell) => cell.project))].filter((project) => !firstLearned.has(project)).sort(compare);
  const projects = [...learned, ...onlyEvaluated];

  const rowVersions = [...new Set([0, ...infos.keys(), ...cells.map((cell) => cell.version).filter((version) => version >= 0)])].sort((a, b) => a - b);
  const rows = rowVersions.map((version) => {
    if (version === 0) return { version, channel: 'base' as const, project: null, createdAt: null };
    const info = infos.get(version);
    // A cell without a registered version: a candidate measured before (or without) registration.
    return { version, channel: info?.channel ?? 'experimental', project: info?.project ?? null, createdAt: info?.createdAt ?? null };
  });

  const comparable = comparableCells(cells);
  const nll = rows.map((row) => projects.map((project) => comparable.get(cellKey(row.version, project))?.nll ?? null));
  const baseRow = nll[0]!;
  const gain = nll.map((values) => values.map((value, column) => relativeGain(baseRow[column], value)));

  const rowIndex = new Map(rows.map((row, index) => [row.version, index]));
  const columnIndex = new Map(projects.map((project, index) => [project, index]));
  const gainOf = (version: number, project: string) => {
    const row = rowIndex.get(version);
    const column = columnIndex.get(project);
    return row === undefined || column === undefined ? null : (gain[row]![column] ?? null);
  };
  const { bwt, version: bwtVersion } = backwardTransfer([...infos.values()], gainOf);
  return { adapter, projects, versions: rows, nll, gain, bwt, bwtVersion, fwt: forwardTransfer([...infos.values()], gainOf) };
}

/** The newest cell per (version, project), minus those measured on another held-out set than the project's newest cell. */
function comparableCells(cells: readonly EvaluationCell[]): Map<string, EvaluationCell> {
  const newestFirst = [...cells].sort((a, b) => compare(b.measuredAt ?? '', a.measuredAt ?? '') || b.version - a.version);
  const reference = new Map<string, string | undefined>();
  const kept = new Map<string, EvaluationCell>();
  for (const cell of newestFirst) {
    if (!Number.isFinite(cell.nll)) continue;
    if (!reference.has(cell.project)) reference.set(cell.project, cell.heldOutHash);
    const hash = reference.get(cell.project);
    if (hash !== undefined && cell.heldOutHash !== undefined && cell.heldOutHash !== hash) continue;
    const key = cellKey(cell.version, cell.project);
    if (!kept.has(key)) kept.set(key, cell);
  }
  return kept;
}

/**
 * Column labels for project folders: the folder's name, with as many parent folders as it takes
 * to tell two projects apart (`erp/app` and `shop/app`).
 */
export function shortProjectNames(projects: readonly string[]): Map<string, string> {
  const segments = (project: string) => project.split(/[\\/]+/).filter(Boolean);
  const tail = (project: string, depth: number) => segments(project).slice(-depth).join('/') || project;
  const names = new Map<string, string>();
  for (const project of projects) {
    const deepest = Math.max(1, segments(project).length);
    let depth = 1;
    while (depth < deepest && projects.some((other) => other !== project && tail(other, depth) === tail(project, depth))) depth++;
    names.set(project, tail(project, depth));
  }
  return names;
}

function cellKey(version: number, project: string): string {
  return `${version}\u0000${project}`;
}

/** Code-unit order: the same in Node and every browser, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
