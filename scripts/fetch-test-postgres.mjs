#!/usr/bin/env node
// Test fixture: a native PostgreSQL 16 with pgvector, from the `pgserver` wheel on PyPI (the only
// registry-reachable build of PostgreSQL that ships pgvector). Tests run DATABASE_URL against it.
// pip only downloads; the wheel is unpacked here, keeping file modes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { sharedCacheDir } from './shared-cache.mjs';

const version = '0.1.4';
const wheel = `pgserver-${version}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`;
const sha256 = 'd595789b47624a3d963aa9aa6359da9be31beb7e61f1a45541953242068b8813';
const target = join(sharedCacheDir, 'pgserver');
const marker = join(target, `.complete-${version}`);

if (existsSync(marker)) {
  process.stderr.write(`[fetch-test-postgres] ${target}\n`);
  process.exit(0);
}
const scratch = `${target}.download`;
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
const pip = spawnSync(
  'python3',
  [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--python-version',
    '3.11',
    '--platform',
    'manylinux2014_x86_64',
    `pgserver==${version}`,
    '-d',
    scratch,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (pip.status !== 0) {
  process.stderr.write('[fetch-test-postgres] pip download failed: the native PostgreSQL tests need python3 with pip and access to PyPI.\n');
  process.exit(1);
}
const wheelPath = join(scratch, wheel);
const digest = createHash('sha256').update(readFileSync(wheelPath)).digest('hex');
if (digest !== sha256) {
  process.stderr.write(`[fetch-test-postgres] ${wheel} has SHA-256 ${digest}, expected ${sha256}.\n`);
  process.exit(1);
}

const zip = await new Promise((resolve, reject) => yauzl.open(wheelPath, { lazyEntries: true }, (error, file) => (error ? reject(error) : resolve(file))));
await new Promise((resolve, reject) => {
  zip.on('error', reject);
  zip.on('end', resolve);
  zip.on('entry', (entry) => {
    const keep = entry.fileName.startsWith('pgserver/pginstall/') || entry.fileName.startsWith('pgserver.libs/');
    if (!keep || entry.fileName.endsWith('/')) return zip.readEntry();
    const destination = join(scratch, 'out', entry.fileName);
    mkdirSync(dirname(destination), { recursive: true });
    zip.openReadStream(entry, (error, stream) => {
      if (error) return reject(error);
      pipeline(stream, createWriteStream(destination)).then(() => {
        const mode = (entry.externalFileAttributes >>> 16) & 0o777;
        chmodSync(destination, mode || 0o644);
        zip.readEntry();
      }, reject);
    });
  });
  zip.readEntry();
});
zip.close();
rmSync(target, { recursive: true, force: true });
renameSync(join(scratch, 'out'), target);
rmSync(scratch, { recursive: true, force: true });
createWriteStream(marker).end(wheel);
process.stderr.write(`[fetch-test-postgres] ${target}\n`);
