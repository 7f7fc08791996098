/**
 * The project context as the modulator sees it: a fixed-length vector built from the detected
 * stacks (electron/engine/context). It lives in shared/ because the engine computes it and the UI
 * shows and edits the same stacks, so both must agree on the names and the layout.
 *
 * Layout (length `contextVectorLength` = 30; electron/engine/context/README.md has the table):
 *   [0, 20)  one slot per entry of `stackNames`: that stack's confidence, 0 when absent
 *   20       other/unknown: 1 when no stack was detected, else the highest confidence of a stack
 *            whose name is not in `stackNames`
 *   [21, 28) language families (`languageFamilies`): the highest confidence of a stack in it
 *   28       1 when the top stack's version is known, else 0
 *   29       where the top stack's version sits in its reference range (`versionRanges`), 0..1
 *
 * Adding a stack or a family changes the layout: vectors stored with the old layout must be
 * recomputed from their stacks, which is why the stacks, not the vector, are what gets stored.
 */

/** Grouped by family, frameworks before their base language; this order is the vector layout. */
export const stackNames = [
  'odoo',
  'django',
  'flask',
  'fastapi',
  'python',
  'nextjs',
  'react',
  'vue',
  'angular',
  'electron',
  'typescript-library',
  'node',
  'go',
  'rust',
  'java-maven',
  'java-gradle',
  'php-laravel',
  'php',
  'ruby-rails',
  'ruby',
] as const;

export type StackName = (typeof stackNames)[number];

export const languageFamilies = ['python', 'js-ts', 'jvm', 'go', 'rust', 'php', 'ruby'] as const;

export type LanguageFamily = (typeof languageFamilies)[number];

export const stackFamily: Readonly<Record<StackName, LanguageFamily>> = {
  odoo: 'python',
  django: 'python',
  flask: 'python',
  fastapi: 'python',
  python: 'python',
  nextjs: 'js-ts',
  react: 'js-ts',
  vue: 'js-ts',
  angular: 'js-ts',
  electron: 'js-ts',
  'typescript-library': 'js-ts',
  node: 'js-ts',
  go: 'go',
  rust: 'rust',
  'java-maven': 'jvm',
  'java-gradle': 'jvm',
  'php-laravel': 'php',
  php: 'php',
  'ruby-rails': 'ruby',
  ruby: 'ruby',
};

/**
 * The span of versions each stack's version slot maps onto 0..1: roughly the oldest release still
 * met in the wild to the newest at the time of writing. Newer releases clip to 1 rather than
 * needing an update here. Each stack's version means what detection reports for it: the
 * framework's release for frameworks, the language or runtime release for base stacks (Java for
 * both JVM build tools), the edition for Rust, TypeScript's release for a TypeScript library.
 */
export const versionRanges: Readonly<Record<StackName, readonly [oldest: string, newest: string]>> = {
  odoo: ['8.0', '19.0'],
  django: ['1.11', '5.2'],
  flask: ['0.12', '3.1'],
  fastapi: ['0.60', '0.116'],
  python: ['2.7', '3.13'],
  nextjs: ['9', '15'],
  react: ['15', '19'],
  vue: ['2', '3.5'],
  angular: ['8', '20'],
  electron: ['10', '38'],
  'typescript-library': ['3.0', '5.9'],
  node: ['12', '24'],
  go: ['1.11', '1.25'],
  rust: ['2015', '2024'],
  'java-maven': ['8', '25'],
  'java-gradle': ['8', '25'],
  'php-laravel': ['5.5', '12'],
  php: ['5.6', '8.4'],
  'ruby-rails': ['4.2', '8.0'],
  ruby: ['2.3', '3.4'],
};

const otherSlot = stackNames.length;
const familyOffset = otherSlot + 1;
const versionKnownSlot = familyOffset + languageFamilies.length;
const versionPositionSlot = versionKnownSlot + 1;

export const contextVectorLength = versionPositionSlot + 1;

export interface StackEstimate {
  name: string;
  version: string | null;
  confidence: number;
}

const stackIndex = new Map<string, number>(stackNames.map((name, index) => [name, index]));

export function isStackName(name: string): name is StackName {
  return stackIndex.has(name);
}

/**
 * The vector for `stacks` in the order detection ranks them (most likely first: the first one is
 * the "top stack" the version slots describe). Confidences are clamped to 0..1 and a NaN counts as
 * 0, so a hand-edited list cannot push the modulator's input out of range.
 */
export function contextVector(stacks: readonly StackEstimate[]): Float32Array {
  const vector = new Float32Array(contextVectorLength);
  for (const stack of stacks) {
    const confidence = clampUnit(stack.confidence);
    const index = stackIndex.get(stack.name);
    if (index === undefined) {
      vector[otherSlot] = Math.max(vector[otherSlot]!, confidence);
      continue;
    }
    vector[index] = Math.max(vector[index]!, confidence);
    const family = familyOffset + languageFamilies.indexOf(stackFamily[stack.name as StackName]);
    vector[family] = Math.max(vector[family]!, confidence);
  }
  if (stacks.length === 0) vector[otherSlot] = 1;
  const top = stacks[0];
  if (top && isStackName(top.name) && top.version !== null) {
    const position = versionPosition(top.version, versionRanges[top.name]);
    if (position !== null) {
      vector[versionKnownSlot] = 1;
      vector[versionPositionSlot] = position;
    }
  }
  return vector;
}

/** 0 at the range's oldest version, 1 at its newest; null for a version that is not numeric. */
function versionPosition(version: string, [oldest, newest]: readonly [string, string]): number | null {
  const value = versionNumber(version);
  if (value === null) return null;
  const low = versionNumber(oldest)!;
  const high = versionNumber(newest)!;
  return clampUnit((value - low) / (high - low));
}

/**
 * "3.9" < "3.11" as versions, not as decimals: the minor part is scaled by 1/1000, so minors up to
 * 999 (FastAPI's 0.115) keep their order.
 */
function versionNumber(version: string): number | null {
  const match = /^v?(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) return null;
  return Number(match[1]) + Number(match[2] ?? 0) / 1000;
}

function clampUnit(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}
