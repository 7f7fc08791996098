/**
 * Manifest text → what it declares: dependencies with their version ranges, the language or
 * runtime version, and the few fields stack rules look at. Only declarations are read: JSON and
 * TOML through real parsers, the rest (requirements lines, go.mod, pom.xml, Gradle and Ruby
 * files, setup.py) as plain text by pattern, and Odoo's `__manifest__.py` by a literal reader that
 * checks its shape and never executes it. A manifest that does not parse keeps a `problem` and
 * whatever could still be read; it never throws.
 */
import { parse as parseToml, TomlError } from 'smol-toml';

export type ManifestKind =
  | 'package.json'
  | 'requirements'
  | 'pyproject.toml'
  | 'Pipfile'
  | 'setup.py'
  | 'setup.cfg'
  | 'go.mod'
  | 'Cargo.toml'
  | 'pom.xml'
  | 'build.gradle'
  | 'composer.json'
  | 'Gemfile'
  | 'Gemfile.lock'
  | 'odoo'
  | 'node-version'
  | 'python-version'
  | 'ruby-version';

export interface Dependency {
  /** As written ('^14.2.3', '==4.2.7', '~> 7.1'); '' when the manifest gives none. */
  range: string;
  /** Where it was declared: 'dependencies', 'devDependencies', 'project.dependencies', 'require' … */
  section: string;
}

export interface OdooManifest {
  name: string | null;
  version: string | null;
  depends: string[];
}

export interface Manifest {
  /** Project-relative path. */
  path: string;
  kind: ManifestKind;
  /** Why the manifest could not be (fully) read; null when it was. */
  problem: string | null;
  /** By name (npm names as written, Python names normalised per PEP 503, lower-case elsewhere); the first declaration wins. */
  dependencies: Map<string, Dependency>;
  /** The language or runtime version as declared: engines.node, requires-python, go, edition, java.version, require.php, ruby. */
  runtimeVersion: string | null;
  /** package.json fields that make a package consumable as a library: types, typings, exports. */
  libraryFields: string[];
  odoo: OdooManifest | null;
}

/** Exact names worth a direct look in a folder too large to list completely. */
export const manifestFileNames = [
  'package.json',
  'pyproject.toml',
  'requirements.txt',
  'Pipfile',
  'setup.py',
  'setup.cfg',
  'go.mod',
  'Cargo.toml',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'composer.json',
  'Gemfile',
  'Gemfile.lock',
  '__manifest__.py',
  '__openerp__.py',
] as const;

const kindsByName = new Map<string, ManifestKind>([
  ['package.json', 'package.json'],
  ['pyproject.toml', 'pyproject.toml'],
  ['Pipfile', 'Pipfile'],
  ['setup.py', 'setup.py'],
  ['setup.cfg', 'setup.cfg'],
  ['go.mod', 'go.mod'],
  ['Cargo.toml', 'Cargo.toml'],
  ['pom.xml', 'pom.xml'],
  ['build.gradle', 'build.gradle'],
  ['build.gradle.kts', 'build.gradle'],
  ['composer.json', 'composer.json'],
  ['Gemfile', 'Gemfile'],
  ['Gemfile.lock', 'Gemfile.lock'],
  ['__manifest__.py', 'odoo'],
  ['__openerp__.py', 'odoo'],
  ['.nvmrc', 'node-version'],
  ['.node-version', 'node-version'],
  ['.python-version', 'python-version'],
  ['.ruby-version', 'ruby-version'],
]);

/** requirements.txt, requirements-dev.txt, requirements_test.txt, and any .txt in a requirements/ folder. */
export function manifestKind(relativePath: string): ManifestKind | undefined {
  const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  const known = kindsByName.get(name);
  if (known) return known;
  if (!name.endsWith('.txt')) return undefined;
  if (/^requirements(?:[-_.][\w.-]*)?\.txt$/.test(name)) return 'requirements';
  return relativePath === `requirements/${name}` || relativePath.endsWith(`/requirements/${name}`) ? 'requirements' : undefined;
}

/** A manifest that was found but not read: only its name and the reason are known. */
export function unreadManifest(path: string, kind: ManifestKind, problem: string): Manifest {
  return { path, kind, problem, dependencies: new Map(), runtimeVersion: null, libraryFields: [], odoo: null };
}

export function parseManifest(path: string, kind: ManifestKind, text: string): Manifest {
  const manifest: Manifest = { path, kind, problem: null, dependencies: new Map(), runtimeVersion: null, libraryFields: [], odoo: null };
  switch (kind) {
    case 'package.json':
      readPackageJson(manifest, text);
      break;
    case 'composer.json':
      readComposerJson(manifest, text);
      break;
    case 'requirements':
      for (const line of text.split('\n')) addRequirementLine(manifest, line, 'requirements');
      break;
    case 'pyproject.toml':
      readPyproject(manifest, text);
      break;
    case 'Pipfile':
      readPipfile(manifest, text);
      break;
    case 'setup.py':
      readSetupPy(manifest, text);
      break;
    case 'setup.cfg':
      readSetupCfg(manifest, text);
      break;
    case 'go.mod':
      readGoMod(manifest, text);
      break;
    case 'Cargo.toml':
      readCargoToml(manifest, text);
      break;
    case 'pom.xml':
      readPom(manifest, text);
      break;
    case 'build.gradle':
      manifest.runtimeVersion = firstCapture(text, gradleJavaVersionPatterns);
      break;
    case 'Gemfile':
      readGemfile(manifest, text);
      break;
    case 'Gemfile.lock':
      readGemfileLock(manifest, text);
      break;
    case 'odoo':
      readOdooManifest(manifest, text);
      break;
    case 'node-version':
    case 'python-version':
    case 'ruby-version':
      manifest.runtimeVersion = text.trim().split(/\s+/, 1)[0] || null;
      break;
  }
  return manifest;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJsonObject(manifest: Manifest, text: string): JsonObject | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    manifest.problem = `not valid JSON (${(error as Error).message})`;
    return undefined;
  }
  if (!isObject(json)) {
    manifest.problem = 'not a JSON object';
    return undefined;
  }
  return json;
}

function addDependency(manifest: Manifest, name: string, range: string, section: string): void {
  if (!manifest.dependencies.has(name)) manifest.dependencies.set(name, { range: range.trim(), section });
}

function addStringRecord(manifest: Manifest, record: unknown, section: string, normalise: (name: string) => string = (name) => name): void {
  if (!isObject(record)) return;
  for (const [name, range] of Object.entries(record)) {
    if (typeof range === 'string') addDependency(manifest, normalise(name), range, section);
  }
}

function readPackageJson(manifest: Manifest, text: string): void {
  const json = readJsonObject(manifest, text);
  if (!json) return;
  for (const section of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) addStringRecord(manifest, json[section], section);
  const engines = json['engines'];
  if (isObject(engines) && typeof engines['node'] === 'string') manifest.runtimeVersion = engines['node'];
  manifest.libraryFields = ['types', 'typings', 'exports'].filter((field) => json[field] !== undefined);
}

function readComposerJson(manifest: Manifest, text: string): void {
  const json = readJsonObject(manifest, text);
  if (!json) return;
  const lowerCase = (name: string) => name.toLowerCase();
  addStringRecord(manifest, json['require'], 'require', lowerCase);
  addStringRecord(manifest, json['require-dev'], 'require-dev', lowerCase);
  manifest.runtimeVersion = manifest.dependencies.get('php')?.range ?? null;
}

/** PEP 503: names compare case-insensitively with runs of `-`, `_`, `.` equal. */
export function normalisePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A PEP 508 requirement (`Django[argon2]>=4.2,<5 ; python_version>"3.8"`, `Flask (==3.0.0)`, `pkg @ https://…`). */
function addRequirement(manifest: Manifest, requirement: string, section: string): void {
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$/.exec(requirement.trim());
  if (!match) return;
  const specifier = match[2]!.split(';', 1)[0]!.trim();
  addDependency(manifest, normalisePythonName(match[1]!), specifier.startsWith('@') ? '' : specifier.replace(/^\((.*)\)$/, '$1'), section);
}

/** Options (`-r`, `-e`, `--index-url`) and bare URLs name no package by themselves. */
function addRequirementLine(manifest: Manifest, line: string, section: string): void {
  const requirement = line.replace(/(^|\s)#.*$/, '').trim();
  if (requirement === '' || requirement.startsWith('-') || /^[a-z+]+:\/\//i.test(requirement)) return;
  addRequirement(manifest, requirement, section);
}

function readToml(manifest: Manifest, text: string): JsonObject | undefined {
  try {
    return parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml appends a code frame after the first line; the first line says what and where.
    manifest.problem = `not valid TOML (${error.message.split('\n', 1)[0]})`;
    return undefined;
  }
}

function readPyproject(manifest: Manifest, text: string): void {
  const toml = readToml(manifest, text);
  if (!toml) return;
  const project = toml['project'];
  if (isObject(project)) {
    addRequirementArray(manifest, project['dependencies'], 'project.dependencies');
    const optional = project['optional-dependencies'];
    if (isObject(optional)) {
      for (const [group, requirements] of Object.entries(optional)) addRequirementArray(manifest, requirements, `project.optional-dependencies.${group}`);
    }
    if (typeof project['requires-python'] === 'string') manifest.runtimeVersion = project['requires-python'];
  }
  const tool = toml['tool'];
  const poetry = isObject(tool) ? tool['poetry'] : undefined;
  if (!isObject(poetry)) return;
  addPoetryTable(manifest, poetry['dependencies'], 'tool.poetry.dependencies');
  addPoetryTable(manifest, poetry['dev-dependencies'], 'tool.poetry.dev-dependencies');
  const groups = poetry['group'];
  if (isObject(groups)) {
    for (const [group, table] of Object.entries(groups)) {
      if (isObject(table)) addPoetryTable(manifest, table['dependencies'], `tool.poetry.group.${group}.dependencies`);
    }
  }
}

function addRequirementArray(manifest: Manifest, requirements: unknown, section: string): void {
  if (!Array.isArray(requirements)) return;
  for (const requirement of requirements) {
    if (typeof requirement === 'string') addRequirement(manifest, requirement, section);
  }
}

/** Poetry and Pipenv: `name = "^1.2"` or `name = { version = "^1.2", extras = […] }`; `python` is the interpreter, not a package. */
function addPoetryTable(manifest: Manifest, table: unknown, section: string): void {
  if (!isObject(table)) return;
  for (const [name, value] of Object.entries(table)) {
    const range = typeof value === 'string' ? value : isObject(value) && typeof value['version'] === 'string' ? value['version'] : '';
    if (name.toLowerCase() === 'python') manifest.runtimeVersion ??= range || null;
    else addDependency(manifest, normalisePythonName(name), range, section);
  }
}

function readPipfile(manifest: Manifest, text: string): void {
  const toml = readToml(manifest, text);
  if (!toml) return;
  addPoetryTable(manifest, toml['packages'], 'packages');
  addPoetryTable(manifest, toml['dev-packages'], 'dev-packages');
  const requires = toml['requires'];
  if (!isObject(requires)) return;
  const python = requires['python_version'] ?? requires['python_full_version'];
  if (typeof python === 'string') manifest.runtimeVersion = python;
}

/** Only the literal list after `install_requires=`: a setup.py is a program, and a computed list stays unknown. */
function readSetupPy(manifest: Manifest, text: string): void {
  const list = /install_requires\s*=\s*\[([^\]]*)\]/.exec(text)?.[1];
  if (list !== undefined) {
    for (const [, , requirement] of list.matchAll(/(['"])([^'"\n]+)\1/g)) addRequirement(manifest, requirement!, 'install_requires');
  }
  manifest.runtimeVersion = /python_requires\s*=\s*(['"])([^'"\n]+)\1/.exec(text)?.[2] ?? null;
}

/** `install_requires =` in [options], its value on the same line and/or on the indented lines after it. */
function readSetupCfg(manifest: Manifest, text: string): void {
  let section = '';
  let inRequires = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]+)\]/.exec(line);
    if (header) {
      section = header[1]!.trim();
      inRequires = false;
      continue;
    }
    if (section !== 'options') continue;
    const setting = /^(\w+)\s*[=:]\s*(.*)$/.exec(line);
    if (setting) {
      inRequires = setting[1] === 'install_requires';
      if (inRequires) addRequirementLine(manifest, setting[2]!, 'install_requires');
      if (setting[1] === 'python_requires') manifest.runtimeVersion = setting[2]!.trim() || null;
    } else if (inRequires && /^\s+\S/.test(line)) {
      addRequirementLine(manifest, line, 'install_requires');
    }
  }
}

function readGoMod(manifest: Manifest, text: string): void {
  if (!/^\s*module\s+\S+/m.test(text)) manifest.problem = 'no module directive';
  manifest.runtimeVersion = /^\s*go\s+(\d+(?:\.\d+)*)\s*$/m.exec(text)?.[1] ?? null;
}

function readCargoToml(manifest: Manifest, text: string): void {
  const toml = readToml(manifest, text);
  if (!toml) return;
  const rustPackage = toml['package'];
  const workspace = toml['workspace'];
  if (!isObject(rustPackage) && !isObject(workspace)) {
    manifest.problem = 'neither [package] nor [workspace]';
    return;
  }
  const workspacePackage = isObject(workspace) ? workspace['package'] : undefined;
  const edition = (isObject(rustPackage) ? rustPackage['edition'] : undefined) ?? (isObject(workspacePackage) ? workspacePackage['edition'] : undefined);
  if (typeof edition === 'string') manifest.runtimeVersion = edition;
}

function readPom(manifest: Manifest, text: string): void {
  const xml = text.replace(/<!--[\s\S]*?-->/g, '');
  if (!/<project[\s>]/.test(xml)) {
    manifest.problem = 'no <project> element';
    return;
  }
  manifest.runtimeVersion = firstCapture(xml, [
    /<maven\.compiler\.release>\s*([^<\s]+)\s*</,
    /<java\.version>\s*([^<\s]+)\s*</,
    /<maven\.compiler\.source>\s*([^<\s]+)\s*</,
    /<release>\s*(\d[^<\s]*)\s*<\/release>/,
  ]);
}

const gradleJavaVersionPatterns = [
  /JavaLanguageVersion\.of\(\s*(\d+)\s*\)/,
  /jvmToolchain\(\s*(\d+)\s*\)/,
  /sourceCompatibility\s*=?\s*(?:JavaVersion\.VERSION_)?['"]?(\d+(?:[._]\d+)?)/,
];

function firstCapture(text: string, patterns: readonly RegExp[]): string | null {
  for (const pattern of patterns) {
    const value = pattern.exec(text)?.[1];
    if (value !== undefined) return value;
  }
  return null;
}

function readGemfile(manifest: Manifest, text: string): void {
  for (const [, name, range] of text.matchAll(/^\s*gem\s+['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?/gm)) {
    addDependency(manifest, name!.toLowerCase(), range ?? '', 'Gemfile');
  }
  manifest.runtimeVersion = /^\s*ruby\s+['"]([^'"]+)['"]/m.exec(text)?.[1] ?? null;
}

/** Resolved gems are the four-space-indented `name (version)` lines; deeper lines are their own requirements. */
function readGemfileLock(manifest: Manifest, text: string): void {
  for (const [, name, version] of text.matchAll(/^ {4}([A-Za-z0-9_.-]+) \(([^)]+)\)\s*$/gm)) {
    addDependency(manifest, name!.toLowerCase(), version!, 'specs');
  }
  manifest.runtimeVersion = /^RUBY VERSION\s*\n\s*ruby\s+(\S+)/m.exec(text)?.[1] ?? null;
}

/**
 * `__manifest__.py` is a Python dict literal. Its values are picked out by pattern (the keys are
 * unique in practice); its shape is checked by `dictLiteralProblem`. Both tolerate what Odoo
 * accepts (comments, either quote, trailing commas) and neither runs anything.
 */
function readOdooManifest(manifest: Manifest, text: string): void {
  const depends = /['"]depends['"]\s*:\s*[[(]([^\])]*)[\])]/.exec(text)?.[1];
  manifest.odoo = {
    name: stringValue(text, 'name'),
    version: stringValue(text, 'version'),
    depends: depends === undefined ? [] : [...depends.matchAll(/['"]([^'"\n]+)['"]/g)].map((match) => match[1]!),
  };
  manifest.problem = dictLiteralProblem(text) ?? (manifest.odoo.name === null && depends === undefined ? "neither a 'name' nor a 'depends' entry" : null);
}

function stringValue(text: string, key: string): string | null {
  const match = new RegExp(`['"]${key}['"]\\s*:\\s*[uUrR]?(?:"([^"\\n]*)"|'([^'\\n]*)')`).exec(text);
  return match ? (match[1] ?? match[2]!) : null;
}

/**
 * Null when `text` is one bracket-balanced `{…}` (comments and strings aside, a leading
 * docstring allowed), else what is wrong with it, with the line.
 */
export function dictLiteralProblem(text: string): string | null {
  const open: string[] = [];
  let started = false;
  let closed = false;
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '#') {
      const newline = text.indexOf('\n', at);
      at = newline === -1 ? text.length : newline;
      continue;
    }
    if (/\s/.test(char)) {
      at++;
      continue;
    }
    if (closed) return `unexpected text after the closing brace (line ${lineOf(text, at)})`;
    if (char === '"' || char === "'") {
      const end = stringEnd(text, at);
      if (end === -1) return `unterminated string (line ${lineOf(text, at)})`;
      at = end;
      continue;
    }
    if (!started && char !== '{') return `does not start with '{' (line ${lineOf(text, at)})`;
    started = true;
    if ('{[('.includes(char)) {
      open.push(char);
    } else if ('}])'.includes(char)) {
      if (open.pop() !== openerOf.get(char)) return `unbalanced '${char}' (line ${lineOf(text, at)})`;
      closed = open.length === 0;
    }
    at++;
  }
  if (!started) return 'empty: no dict literal';
  return closed ? null : `the dict is never closed (${open.length} bracket${open.length === 1 ? '' : 's'} left open)`;
}

const openerOf = new Map([
  ['}', '{'],
  [']', '['],
  [')', '('],
]);

/** Index just past the string literal opening at `start`, or -1 when it never ends. */
function stringEnd(text: string, start: number): number {
  const quote = text[start]!;
  const triple = text.startsWith(quote.repeat(3), start);
  const delimiter = triple ? quote.repeat(3) : quote;
  let at = start + delimiter.length;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '\\') {
      at += 2;
      continue;
    }
    if (!triple && char === '\n') return -1;
    if (text.startsWith(delimiter, at)) return at + delimiter.length;
    at++;
  }
  return -1;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}
