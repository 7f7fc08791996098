import { describe, expect, it } from 'vitest';
import { contextVector, contextVectorLength, isStackName, languageFamilies, stackNames, versionRanges } from './context-vector.js';

const slot = {
  stack: (name: (typeof stackNames)[number]) => stackNames.indexOf(name),
  other: stackNames.length,
  family: (name: (typeof languageFamilies)[number]) => stackNames.length + 1 + languageFamilies.indexOf(name),
  versionKnown: stackNames.length + 1 + languageFamilies.length,
  versionPosition: stackNames.length + 2 + languageFamilies.length,
};

describe('contextVector', () => {
  it('has the documented fixed length whatever the input', () => {
    expect(contextVectorLength).toBe(30);
    expect(contextVector([]).length).toBe(contextVectorLength);
    expect(contextVector([{ name: 'odoo', version: '17.0', confidence: 0.9 }]).length).toBe(contextVectorLength);
  });

  it('marks an unknown project in the other/unknown slot and nowhere else', () => {
    const vector = contextVector([]);
    expect(vector[slot.other]).toBe(1);
    expect([...vector].reduce((sum, value) => sum + value, 0)).toBe(1);
  });

  it('puts each confidence in its stack slot and the highest of a family in the family slot', () => {
    const vector = contextVector([
      { name: 'nextjs', version: '14.2', confidence: 0.96 },
      { name: 'react', version: '18.3', confidence: 0.9 },
      { name: 'node', version: null, confidence: 0.95 },
      { name: 'django', version: '4.2', confidence: 0.5 },
    ]);
    expect(vector[slot.stack('nextjs')]).toBeCloseTo(0.96);
    expect(vector[slot.stack('react')]).toBeCloseTo(0.9);
    expect(vector[slot.stack('node')]).toBeCloseTo(0.95);
    expect(vector[slot.stack('django')]).toBeCloseTo(0.5);
    expect(vector[slot.family('js-ts')]).toBeCloseTo(0.96);
    expect(vector[slot.family('python')]).toBeCloseTo(0.5);
    expect(vector[slot.family('go')]).toBe(0);
    expect(vector[slot.other]).toBe(0);
  });

  it('places the top stack version within its reference range, comparing versions as versions', () => {
    const [oldest, newest] = versionRanges.odoo;
    expect(contextVector([{ name: 'odoo', version: oldest, confidence: 1 }])[slot.versionPosition]).toBe(0);
    expect(contextVector([{ name: 'odoo', version: newest, confidence: 1 }])[slot.versionPosition]).toBe(1);
    const odoo16 = contextVector([{ name: 'odoo', version: '16.0', confidence: 1 }]);
    const odoo17 = contextVector([{ name: 'odoo', version: '17.0', confidence: 1 }]);
    expect(odoo16[slot.versionKnown]).toBe(1);
    expect(odoo17[slot.versionPosition]).toBeGreaterThan(odoo16[slot.versionPosition]!);
    const python39 = contextVector([{ name: 'python', version: '3.9', confidence: 1 }])[slot.versionPosition]!;
    const python311 = contextVector([{ name: 'python', version: '3.11', confidence: 1 }])[slot.versionPosition]!;
    expect(python311).toBeGreaterThan(python39);
    expect(contextVector([{ name: 'react', version: '99', confidence: 1 }])[slot.versionPosition]).toBe(1);
  });

  it('describes only the first stack version, and only a numeric one', () => {
    const vector = contextVector([
      { name: 'rust', version: null, confidence: 0.9 },
      { name: 'go', version: '1.22', confidence: 0.9 },
    ]);
    expect(vector[slot.versionKnown]).toBe(0);
    expect(vector[slot.versionPosition]).toBe(0);
    expect(contextVector([{ name: 'node', version: 'lts', confidence: 0.9 }])[slot.versionKnown]).toBe(0);
  });

  it('keeps unknown stack names and out-of-range confidences inside 0..1', () => {
    const vector = contextVector([
      { name: 'elixir-phoenix', version: '1.7', confidence: 0.7 },
      { name: 'go', version: null, confidence: 3 },
      { name: 'rust', version: null, confidence: Number.NaN },
      { name: 'php', version: null, confidence: -1 },
    ]);
    expect(vector[slot.other]).toBeCloseTo(0.7);
    expect(vector[slot.stack('go')]).toBe(1);
    expect(vector[slot.stack('rust')]).toBe(0);
    expect(vector[slot.stack('php')]).toBe(0);
    expect(vector[slot.versionKnown]).toBe(0);
    expect([...vector].every((value) => value >= 0 && value <= 1)).toBe(true);
  });

  it('is a pure function of its input', () => {
    const stacks = [{ name: 'django', version: '4.2', confidence: 0.93 }];
    expect(contextVector(stacks)).toEqual(contextVector(stacks));
    expect(stacks).toEqual([{ name: 'django', version: '4.2', confidence: 0.93 }]);
  });
});

describe('isStackName', () => {
  it('accepts exactly the listed stacks', () => {
    expect(stackNames.every(isStackName)).toBe(true);
    expect(isStackName('cobol')).toBe(false);
    expect(isStackName('toString')).toBe(false);
  });
});
