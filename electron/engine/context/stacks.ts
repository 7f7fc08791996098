/**
 * The per-stack rules: what in a scan counts as evidence for which stack, how much (its weight,
 * the probability that this evidence alone means the stack is there) and which version it
 * declares. The weights come in a few classes, from "the manifest declares the framework" down to
 * "the extensions lean that way"; README.md has the table and rank.ts how they combine.
 */
import type { StackName } from '../../../shared/context-vector.js';
import { manifestFileNames, manifestKind, type Manifest, type ManifestKind } from './manifests.js';
import type { Scan, Watch } from './signals.js';

export interface Evidence {
  stack: StackName;
  /** Evidence of one kind for one stack (the same dependency in five package.json files) is one piece: the strongest counts. */
  kind: string;
  weight: number;
  text: string;
  /** The file or folder it comes from; null for the extension histogram. */
  path: string | null;
}

export interface VersionClaim {
  stack: StackName;
  version: string;
}

export interface Findings {
  evidence: Evidence[];
  /** In scan order, shallowest manifest first. */
  versions: VersionClaim[];
}

export const weights = {
  /** The manifest declares the framework (next, django, laravel/framework, rails…). */
  declaredDependency: 0.9,
  /** Declared for development only (tests or tooling may be all it serves) or as a peer (the host application brings it). */
  devOrPeerDependency: 0.6,
  /** A readable manifest of the language's own tooling (package.json, pyproject.toml, go.mod…). */
  manifest: 0.9,
  /** An Odoo module's manifest that reads as a dict literal with a name or its dependencies. */
  odooManifest: 0.85,
  /** A file name only one stack uses (angular.json, odoo-bin). */
  strongMarker: 0.8,
  /** A file name a stack's tooling creates (manage.py, next.config.js, artisan). */
  marker: 0.6,
  /** A file name a stack's tooling creates besides others (electron-builder.yml, bin/rails). */
  mediumMarker: 0.5,
  /** A manifest that is there but could not be read: its name is still evidence, its content is unknown. */
  unreadManifest: 0.5,
  /** An Odoo manifest that does not read as a dict literal. */
  invalidOdooManifest: 0.4,
  /** Odoo's access rules file, security/ir.model.access.csv. */
  odooAccessRules: 0.4,
  /** package.json says it exports types or modules and declares no app framework. */
  libraryFields: 0.6,
  /** TypeScript declared by a package that is a library. */
  typescriptDependency: 0.5,
  /** A file name common to a stack but not exclusive to it (tsconfig.json, gradlew, .nvmrc). */
  weakMarker: 0.3,
  /** models/ or views/ beside an Odoo manifest. */
  odooLayout: 0.2,
  /** The most the extension histogram can add: all source files in the stack's language, five or more of them. */
  extensions: 0.5,
} as const;

type Ecosystem = 'npm' | 'pypi' | 'composer' | 'gem';

const ecosystemOf: Partial<Record<ManifestKind, Ecosystem>> = {
  'package.json': 'npm',
  requirements: 'pypi',
  'pyproject.toml': 'pypi',
  Pipfile: 'pypi',
  'setup.py': 'pypi',
  'setup.cfg': 'pypi',
  'composer.json': 'composer',
  Gemfile: 'gem',
  'Gemfile.lock': 'gem',
};

/** Each manifest is evidence for the stack whose tooling reads it; version files also carry that stack's version. */
const manifestStack: Record<ManifestKind, StackName> = {
  'package.json': 'node',
  requirements: 'python',
  'pyproject.toml': 'python',
  Pipfile: 'python',
  'setup.py': 'python',
  'setup.cfg': 'python',
  'go.mod': 'go',
  'Cargo.toml': 'rust',
  'pom.xml': 'java-maven',
  'build.gradle': 'java-gradle',
  'composer.json': 'php',
  Gemfile: 'ruby',
  'Gemfile.lock': 'ruby',
  odoo: 'odoo',
  'node-version': 'node',
  'python-version': 'python',
  'ruby-version': 'ruby',
};

const versionFiles = new Set<ManifestKind>(['node-version', 'python-version', 'ruby-version']);

interface DependencyRule {
  stack: StackName;
  ecosystem: Ecosystem;
  /** As the manifest parser keys it (Python names PEP 503-normalised). */
  name: string;
  weight: number;
  /** Whether the dependency's range is the stack's version. */
  versioned: boolean;
  /** Declared for development as a matter of course (Electron is bundled, not installed with the app). */
  devIsNormal?: boolean;
}

const dependencyRules: readonly DependencyRule[] = [
  { stack: 'nextjs', ecosystem: 'npm', name: 'next', weight: weights.declaredDependency, versioned: true },
  { stack: 'react', ecosystem: 'npm', name: 'react', weight: weights.declaredDependency, versioned: true },
  { stack: 'vue', ecosystem: 'npm', name: 'vue', weight: weights.declaredDependency, versioned: true },
  { stack: 'vue', ecosystem: 'npm', name: 'nuxt', weight: weights.marker, versioned: false },
  { stack: 'angular', ecosystem: 'npm', name: '@angular/core', weight: weights.declaredDependency, versioned: true },
  { stack: 'electron', ecosystem: 'npm', name: 'electron', weight: weights.declaredDependency, versioned: true, devIsNormal: true },
  { stack: 'django', ecosystem: 'pypi', name: 'django', weight: weights.declaredDependency, versioned: true },
  { stack: 'flask', ecosystem: 'pypi', name: 'flask', weight: weights.declaredDependency, versioned: true },
  { stack: 'fastapi', ecosystem: 'pypi', name: 'fastapi', weight: weights.declaredDependency, versioned: true },
  { stack: 'php-laravel', ecosystem: 'composer', name: 'laravel/framework', weight: weights.declaredDependency, versioned: true },
  { stack: 'ruby-rails', ecosystem: 'gem', name: 'rails', weight: weights.declaredDependency, versioned: true },
];

/**
 * A package that needs one of these at run time is an application (or that framework's own
 * library), not a plain TypeScript library; as a dev or peer dependency it only serves tests or
 * the host application. Electron apps declare it for development, so there it counts too.
 */
const appFrameworks = ['next', 'react', 'react-dom', 'vue', 'nuxt', '@angular/core', 'electron'];

function needsAppFramework(manifest: Manifest): boolean {
  return appFrameworks.some((name) => {
    const section = manifest.dependencies.get(name)?.section;
    return section === 'dependencies' || (name === 'electron' && section === 'devDependencies');
  });
}

/** devDependencies, peerDependencies, require-dev, dev-packages, Poetry groups and optional extras. */
function isDevOrPeerSection(section: string): boolean {
  return /dev|peer|optional|group\./i.test(section);
}

interface MarkerRule {
  stack: StackName;
  names: readonly string[];
  /** The folder the file must be in, when the name alone is too common. */
  parent?: string;
  weight: number;
}

const markerRules: readonly MarkerRule[] = [
  { stack: 'django', names: ['manage.py'], weight: weights.marker },
  { stack: 'nextjs', names: ['next.config.js', 'next.config.mjs', 'next.config.cjs', 'next.config.ts'], weight: weights.marker },
  { stack: 'angular', names: ['angular.json'], weight: weights.strongMarker },
  {
    stack: 'vue',
    names: ['vue.config.js', 'vue.config.cjs', 'vue.config.ts', 'nuxt.config.js', 'nuxt.config.mjs', 'nuxt.config.ts'],
    weight: weights.mediumMarker,
  },
  {
    stack: 'electron',
    names: [
      'electron-builder.yml',
      'electron-builder.yaml',
      'electron-builder.json',
      'forge.config.js',
      'forge.config.cjs',
      'forge.config.ts',
      'electron.vite.config.ts',
      'electron.vite.config.js',
      'electron.vite.config.mjs',
    ],
    weight: weights.mediumMarker,
  },
  { stack: 'node', names: ['tsconfig.json'], weight: weights.weakMarker },
  { stack: 'go', names: ['go.work'], weight: weights.mediumMarker },
  { stack: 'java-maven', names: ['mvnw'], weight: weights.weakMarker },
  { stack: 'java-gradle', names: ['gradlew', 'settings.gradle', 'settings.gradle.kts'], weight: weights.weakMarker },
  { stack: 'php-laravel', names: ['artisan'], weight: weights.marker },
  { stack: 'ruby-rails', names: ['rails'], parent: 'bin', weight: weights.mediumMarker },
  { stack: 'ruby-rails', names: ['application.rb'], parent: 'config', weight: weights.weakMarker },
  { stack: 'odoo', names: ['odoo-bin'], weight: weights.strongMarker },
  { stack: 'odoo', names: ['ir.model.access.csv'], parent: 'security', weight: weights.odooAccessRules },
];

const markersByName = new Map<string, MarkerRule[]>();
for (const rule of markerRules) {
  for (const name of rule.names) markersByName.set(name, [...(markersByName.get(name) ?? []), rule]);
}

function markersFor(relativePath: string, name: string): MarkerRule[] {
  return (markersByName.get(name) ?? []).filter((rule) => rule.parent === undefined || parentName(relativePath) === rule.parent);
}

const odooLayoutFolders = ['models', 'views'];

export const watch: Watch = {
  file: (relativePath, name) => manifestKind(relativePath) !== undefined || markersFor(relativePath, name).length > 0,
  folder: (name) => odooLayoutFolders.includes(name),
  probe: manifestFileNames,
};

interface ExtensionRule {
  stack: StackName;
  extensions: readonly string[];
  /** Whether the files alone may propose the stack, or only strengthen it once something else has. */
  standalone: boolean;
}

/**
 * Python, JavaScript/TypeScript, Go, Rust, PHP and Ruby files make a project of that language by
 * themselves; a .tsx file or a .java file only says more about a stack something else named,
 * since none of the JVM build tools or UI frameworks follows from the files alone.
 */
const extensionRules: readonly ExtensionRule[] = [
  { stack: 'python', extensions: ['.py', '.pyi'], standalone: true },
  { stack: 'node', extensions: ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx'], standalone: true },
  { stack: 'go', extensions: ['.go'], standalone: true },
  { stack: 'rust', extensions: ['.rs'], standalone: true },
  { stack: 'php', extensions: ['.php'], standalone: true },
  { stack: 'ruby', extensions: ['.rb'], standalone: true },
  { stack: 'react', extensions: ['.jsx', '.tsx'], standalone: false },
  { stack: 'vue', extensions: ['.vue'], standalone: false },
  { stack: 'java-maven', extensions: ['.java', '.kt'], standalone: false },
  { stack: 'java-gradle', extensions: ['.java', '.kt'], standalone: false },
  { stack: 'ruby-rails', extensions: ['.erb'], standalone: false },
];

/** Source files of languages without a rule still count in the share, so a C project's one Python script stays minor. */
const otherSourceExtensions = [
  '.c',
  '.h',
  '.cc',
  '.cpp',
  '.hpp',
  '.cs',
  '.swift',
  '.m',
  '.scala',
  '.groovy',
  '.dart',
  '.lua',
  '.ex',
  '.exs',
  '.erl',
  '.hs',
  '.ml',
  '.clj',
  '.zig',
  '.r',
  '.jl',
];

const sourceExtensions = new Set([...extensionRules.flatMap((rule) => rule.extensions), ...otherSourceExtensions]);

/** Below this many files the histogram's evidence is scaled down: two scripts are not a project. */
const extensionsForFullWeight = 5;

export function collectEvidence(scan: Scan, manifests: readonly Manifest[]): Findings {
  const findings: Findings = { evidence: [], versions: [] };
  for (const manifest of manifests) addManifestEvidence(findings, manifest, scan);
  addMarkerEvidence(findings, scan);
  addExtensionEvidence(findings, scan);
  return findings;
}

function addManifestEvidence(findings: Findings, manifest: Manifest, scan: Scan): void {
  const { path, kind } = manifest;
  const stack = manifestStack[kind];
  if (kind === 'odoo') {
    addOdooEvidence(findings, manifest, scan);
    return;
  }
  if (manifest.problem !== null) {
    // One entry per broken file: each note must stay visible, not fold into the readable ones.
    findings.evidence.push({
      stack,
      kind: `unread:${path}`,
      weight: weights.unreadManifest,
      text: `${path}: ${manifest.problem}; its declarations are unknown`,
      path,
    });
  } else if (versionFiles.has(kind)) {
    findings.evidence.push({ stack, kind: `version-file:${kind}`, weight: weights.weakMarker, text: `${path}: ${manifest.runtimeVersion ?? 'empty'}`, path });
  } else {
    findings.evidence.push({ stack, kind: `manifest:${kind}`, weight: weights.manifest, text: manifestText(manifest), path });
  }
  const runtimeVersion = manifest.runtimeVersion === null ? null : runtimeVersionOf(stack, manifest.runtimeVersion);
  if (runtimeVersion !== null) findings.versions.push({ stack, version: runtimeVersion });

  const ecosystem = ecosystemOf[kind];
  for (const rule of dependencyRules) {
    if (rule.ecosystem !== ecosystem) continue;
    const dependency = manifest.dependencies.get(rule.name);
    if (!dependency) continue;
    const declared = `${rule.name}${dependency.range ? ` ${dependency.range}` : ''} in ${dependency.section}`;
    const weight = rule.devIsNormal || !isDevOrPeerSection(dependency.section) ? rule.weight : Math.min(rule.weight, weights.devOrPeerDependency);
    findings.evidence.push({ stack: rule.stack, kind: `dependency:${rule.name}`, weight, text: `${path}: ${declared}`, path });
    const version = rule.versioned ? majorMinor(dependency.range) : null;
    if (version !== null) findings.versions.push({ stack: rule.stack, version });
  }
  if (kind === 'package.json') addTypescriptLibraryEvidence(findings, manifest, scan);
}

function manifestText(manifest: Manifest): string {
  const details = [
    manifest.dependencies.size > 0 ? `${manifest.dependencies.size} declared dependencies` : '',
    manifest.runtimeVersion === null ? '' : `${runtimeLabel[manifestStack[manifest.kind]] ?? 'version'} ${manifest.runtimeVersion}`,
  ].filter(Boolean);
  return details.length > 0 ? `${manifest.path} (${details.join(', ')})` : manifest.path;
}

const runtimeLabel: Partial<Record<StackName, string>> = {
  node: 'engines.node',
  python: 'Python',
  go: 'go',
  rust: 'edition',
  'java-maven': 'Java',
  'java-gradle': 'Java',
  php: 'PHP',
  ruby: 'Ruby',
};

/**
 * A package that exports types or modules, is written in TypeScript and declares no app
 * framework. The TypeScript version is the stack's version: it is what constrains the code.
 */
function addTypescriptLibraryEvidence(findings: Findings, manifest: Manifest, scan: Scan): void {
  if (manifest.libraryFields.length === 0 || needsAppFramework(manifest)) return;
  const folder = parentPath(manifest.path);
  const tsconfig = folder === '' ? 'tsconfig.json' : `${folder}/tsconfig.json`;
  const hasTsconfig = scan.files.includes(tsconfig);
  const typescript = manifest.dependencies.get('typescript');
  if (!hasTsconfig && !typescript) return;
  const fields = manifest.libraryFields.map((field) => `"${field}"`).join(', ');
  findings.evidence.push({
    stack: 'typescript-library',
    kind: 'library-fields',
    weight: weights.libraryFields,
    text: `${manifest.path}: ${fields} and no app framework`,
    path: manifest.path,
  });
  if (hasTsconfig)
    findings.evidence.push({ stack: 'typescript-library', kind: 'tsconfig', weight: weights.weakMarker, text: `${tsconfig} beside it`, path: tsconfig });
  if (typescript) {
    const range = typescript.range ? ` ${typescript.range}` : '';
    findings.evidence.push({
      stack: 'typescript-library',
      kind: 'typescript',
      weight: weights.typescriptDependency,
      text: `${manifest.path}: typescript${range} in ${typescript.section}`,
      path: manifest.path,
    });
    const version = majorMinor(typescript.range);
    if (version !== null) findings.versions.push({ stack: 'typescript-library', version });
  }
}

function addOdooEvidence(findings: Findings, manifest: Manifest, scan: Scan): void {
  const { path, odoo, problem } = manifest;
  if (odoo === null) {
    findings.evidence.push({ stack: 'odoo', kind: `unread:${path}`, weight: weights.invalidOdooManifest, text: `${path}: ${problem ?? 'not read'}`, path });
    return;
  }
  const series = odoo.version === null ? null : odooSeries(odoo.version);
  const parts = [odoo.name === null ? 'Odoo module' : `Odoo module '${odoo.name}'`];
  if (odoo.version !== null) parts.push(series ? `version ${odoo.version} (Odoo ${series})` : `version ${odoo.version}, which does not name the Odoo series`);
  if (odoo.depends.length > 0) parts.push(`depends on ${odoo.depends.join(', ')}`);
  if (problem === null) {
    findings.evidence.push({ stack: 'odoo', kind: 'odoo-manifest', weight: weights.odooManifest, text: `${path}: ${parts.join(', ')}`, path });
  } else {
    findings.evidence.push({
      stack: 'odoo',
      kind: `unread:${path}`,
      weight: weights.invalidOdooManifest,
      text: `${path}: not a valid manifest (${problem}); as far as it reads: ${parts.join(', ')}`,
      path,
    });
  }
  if (series) findings.versions.push({ stack: 'odoo', version: series });
  const moduleFolder = parentPath(path);
  for (const folder of odooLayoutFolders) {
    const folderPath = moduleFolder === '' ? folder : `${moduleFolder}/${folder}`;
    if (scan.folders.has(folderPath)) {
      findings.evidence.push({
        stack: 'odoo',
        kind: `odoo-layout:${folder}`,
        weight: weights.odooLayout,
        text: `${folderPath}/ beside ${path}`,
        path: folderPath,
      });
    }
  }
}

/**
 * Odoo module versions are `<series>.<module version>`: '17.0.1.0.0' → '17.0', '16.0.1.0' →
 * '16.0'. Three parts or fewer ('1.0', '1.0.3') is a bare module version saying nothing of the
 * series. Odoo's series started at 6.0 (OpenERP); lower majors are module versions.
 */
export function odooSeries(version: string): string | null {
  const parts = version.trim().split('.');
  if (parts.length < 4 || !parts.every((part) => /^\d+$/.test(part))) return null;
  const major = Number(parts[0]);
  return major >= 6 ? `${major}.${parts[1]}` : null;
}

function addMarkerEvidence(findings: Findings, scan: Scan): void {
  for (const path of scan.files) {
    for (const rule of markersFor(path, baseName(path))) {
      const label = rule.parent === undefined ? baseName(path) : `${rule.parent}/${baseName(path)}`;
      findings.evidence.push({ stack: rule.stack, kind: `marker:${label}`, weight: rule.weight, text: path, path });
    }
  }
}

/** weight = extensions × share of the source files × min(1, files / 5), per README.md. */
function addExtensionEvidence(findings: Findings, scan: Scan): void {
  let sourceFiles = 0;
  for (const [extension, count] of scan.extensions) if (sourceExtensions.has(extension)) sourceFiles += count;
  if (sourceFiles === 0) return;
  for (const rule of extensionRules) {
    const counted = rule.extensions.map((extension) => [extension, scan.extensions.get(extension) ?? 0] as const).filter(([, count]) => count > 0);
    const files = counted.reduce((sum, [, count]) => sum + count, 0);
    if (files === 0) continue;
    if (!rule.standalone && !findings.evidence.some((evidence) => evidence.stack === rule.stack)) continue;
    const share = files / sourceFiles;
    const weight = weights.extensions * share * Math.min(1, files / extensionsForFullWeight);
    const listed = counted.map(([extension, count]) => `${count} ${extension}`).join(', ');
    findings.evidence.push({
      stack: rule.stack,
      kind: 'extensions',
      weight,
      text: `${listed} files (${Math.round(share * 100)}% of source files)`,
      path: null,
    });
  }
}

/**
 * Major.minor of the first version in a declared range: '^14.2.3' → '14.2', '==4.2.7' → '4.2',
 * '~> 7.1' → '7.1', '>=3.10,<4' → '3.10', '18.x' → '18'. Null when the range does not start with
 * a version ('*', 'latest', 'workspace:*', git URLs, path dependencies).
 */
export function majorMinor(range: string): string | null {
  const match = /^[\s^~>=<!v(]*(\d+)(?:\.(\d+))?/.exec(range);
  if (!match) return null;
  return match[2] === undefined ? match[1]! : `${match[1]}.${match[2]}`;
}

/** Java spelled its old releases 1.x: '1.8' is Java 8. Rust editions are years and stay whole. */
function runtimeVersionOf(stack: StackName, declared: string): string | null {
  if (stack === 'rust') return /^\d{4}$/.test(declared.trim()) ? declared.trim() : null;
  const version = majorMinor(declared.replace('_', '.'));
  if (version === null) return null;
  if (stack === 'java-maven' || stack === 'java-gradle') return version.startsWith('1.') ? version.slice(2) : version.split('.', 1)[0]!;
  return version;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function parentName(path: string): string {
  return baseName(parentPath(path));
}
