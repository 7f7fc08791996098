import { describe, expect, it } from 'vitest';
import type { StackName } from '../../../shared/context-vector.js';
import { maxConfidence, rankStacks } from './rank.js';
import { majorMinor, odooSeries, type Evidence, type VersionClaim } from './stacks.js';

function evidence(stack: StackName, kind: string, weight: number, path: string | null = `${kind}.file`): Evidence {
  return { stack, kind, weight, text: path ?? kind, path };
}

describe('rankStacks', () => {
  it('combines independent evidence by noisy-OR, to two decimals', () => {
    const [node] = rankStacks({ evidence: [evidence('node', 'manifest', 0.9), evidence('node', 'marker', 0.3)], versions: [] }, 0.3);
    expect(node!.confidence).toBe(0.93);
  });

  it('counts evidence of one kind once, at its strongest, naming the other files', () => {
    const items = ['a', 'b', 'c', 'd', 'e'].map((folder, index) => evidence('odoo', 'odoo-manifest', index === 2 ? 0.85 : 0.4, `${folder}/__manifest__.py`));
    const [odoo] = rankStacks({ evidence: items, versions: [] }, 0.3);
    expect(odoo!.confidence).toBe(0.85);
    expect(odoo!.evidence).toEqual(['c/__manifest__.py (and 4 more: a/__manifest__.py, b/__manifest__.py, d/__manifest__.py, …)']);
  });

  it('never claims certainty, and drops stacks under the threshold', () => {
    const strong = Array.from({ length: 6 }, (_, index) => evidence('go', `kind${index}`, 0.9));
    expect(rankStacks({ evidence: strong, versions: [] }, 0.3)[0]!.confidence).toBe(maxConfidence);
    expect(rankStacks({ evidence: [evidence('rust', 'extensions', 0.29)], versions: [] }, 0.3)).toEqual([]);
  });

  it('puts frameworks before the stacks they imply, whatever their confidence', () => {
    const stacks = rankStacks(
      {
        evidence: [
          evidence('node', 'manifest', 0.95),
          evidence('react', 'dependency', 0.6),
          evidence('nextjs', 'dependency', 0.5),
          evidence('go', 'manifest', 0.9),
          evidence('python', 'manifest', 0.4),
        ],
        versions: [],
      },
      0.3,
    );
    expect(stacks.map((stack) => stack.name)).toEqual(['nextjs', 'react', 'node', 'go', 'python']);
  });

  it('takes the version most manifests declare, the shallowest on a tie', () => {
    const claims = (versions: string[]): VersionClaim[] => versions.map((version) => ({ stack: 'odoo', version }));
    const run = (versions: string[]) => rankStacks({ evidence: [evidence('odoo', 'odoo-manifest', 0.85)], versions: claims(versions) }, 0.3)[0]!.version;
    expect(run(['16.0', '17.0', '17.0'])).toBe('17.0');
    expect(run(['16.0', '17.0'])).toBe('16.0');
    expect(run([])).toBeNull();
  });
});

describe('majorMinor', () => {
  it.each([
    ['^14.2.3', '14.2'],
    ['==4.2.7', '4.2'],
    ['~> 7.1.0', '7.1'],
    ['>=3.10,<4', '3.10'],
    ['18.x', '18'],
    ['v20.11.0', '20.11'],
    ['^0.110.0', '0.110'],
    ['*', null],
    ['latest', null],
    ['workspace:*', null],
    ['github:user/repo#v1.2', null],
    ['', null],
  ])('%s → %s', (range, expected) => {
    expect(majorMinor(range)).toBe(expected);
  });
});

describe('odooSeries', () => {
  it.each([
    ['17.0.1.0.0', '17.0'],
    ['16.0.1.0', '16.0'],
    ['saas~17.1.1.0', null],
    ['1.0', null],
    ['1.0.3', null],
    ['1.0.0.0', null],
  ])('%s → %s', (version, expected) => {
    expect(odooSeries(version)).toBe(expected);
  });
});
