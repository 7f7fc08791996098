import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, RequestError } from '../../../shared/errors.js';
import { defaults, detectContext } from './detect.js';
import type { ContextProposal, DetectedStack } from './types.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'npllm-context-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function plant(files: Record<string, string | Buffer>, base = root): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), content);
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function names(proposal: ContextProposal): string[] {
  return proposal.stacks.map((stack) => stack.name);
}

function stack(proposal: ContextProposal, name: string): DetectedStack {
  const found = proposal.stacks.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`${name} not detected; got ${names(proposal).join(', ') || 'nothing'}`);
  return found;
}

/** The top stack is `name` at `version`, and some evidence names `file`. */
function expectTop(proposal: ContextProposal, name: string, version: string | null, file: string): DetectedStack {
  expect(proposal.stacks[0]?.name, `stacks: ${names(proposal).join(', ')}`).toBe(name);
  const top = proposal.stacks[0]!;
  expect(top.version).toBe(version);
  expect(top.evidence.length).toBeGreaterThan(0);
  expect(
    top.evidence.some((line) => line.includes(file)),
    top.evidence.join('\n'),
  ).toBe(true);
  expect(top.confidence).toBeGreaterThan(0);
  expect(top.confidence).toBeLessThanOrEqual(1);
  expect(Math.round(top.confidence * 100) / 100).toBe(top.confidence);
  return top;
}

const odoo17Module = {
  '__manifest__.py': [
    '# -*- coding: utf-8 -*-',
    '{',
    "    'name': 'Library Books',",
    "    'version': '17.0.1.0.0',",
    "    'depends': ['base', 'mail'],",
    "    'data': [",
    "        'security/ir.model.access.csv',",
    "        'views/book_views.xml',",
    '    ],',
    "    'license': 'LGPL-3',",
    '}',
  ].join('\n'),
  '__init__.py': 'from . import models\n',
  'models/__init__.py': 'from . import book\n',
  'models/book.py': 'from odoo import fields, models\n',
  'views/book_views.xml': '<odoo></odoo>\n',
  'security/ir.model.access.csv': 'id,name,model_id:id,group_id:id,perm_read\n',
};

describe('detectContext on single-stack projects', () => {
  it('detects an Odoo 17 module, its series from the manifest version, and its layout', async () => {
    plant(odoo17Module);
    const proposal = await detectContext(root);
    const odoo = expectTop(proposal, 'odoo', '17.0', '__manifest__.py');
    expect(odoo.evidence.join('\n')).toMatch(/models\/ beside __manifest__\.py/);
    expect(odoo.evidence.join('\n')).toMatch(/views\/ beside __manifest__\.py/);
    expect(odoo.evidence).toContain('security/ir.model.access.csv');
    expect(odoo.confidence).toBeGreaterThan(0.9);
    expect(names(proposal)).toEqual(['odoo', 'python']);
  });

  it('detects an Odoo 16 module declared in __openerp__.py', async () => {
    plant({
      '__openerp__.py': "{\n    'name': 'Old Sales',\n    'version': '16.0.1.0',\n    'depends': ['sale'],\n}\n",
      '__init__.py': '',
      'models/__init__.py': '',
    });
    expectTop(await detectContext(root), 'odoo', '16.0', '__openerp__.py');
  });

  it('detects a Django app from requirements.txt and manage.py', async () => {
    plant({
      'requirements.txt': '# web\nDjango==4.2.7\npsycopg2-binary>=2.9 ; sys_platform == "linux"\n-r requirements-dev.txt\n',
      'manage.py': '#!/usr/bin/env python\n',
      'mysite/settings.py': '',
      'mysite/urls.py': '',
      'blog/models.py': '',
      'blog/views.py': '',
    });
    const proposal = await detectContext(root);
    const django = expectTop(proposal, 'django', '4.2', 'requirements.txt');
    expect(django.evidence).toContain('manage.py');
    expect(names(proposal)).toEqual(['django', 'python']);
  });

  it('detects Flask', async () => {
    plant({ 'requirements.txt': 'flask>=3.0.2\ngunicorn\n', 'app.py': '', 'templates/index.html': '' });
    expectTop(await detectContext(root), 'flask', '3.0', 'requirements.txt');
  });

  it('detects FastAPI from pyproject.toml, with the Python version for the base stack', async () => {
    plant({
      'pyproject.toml': [
        '[project]',
        'name = "api"',
        'version = "0.1.0"',
        'requires-python = ">=3.11"',
        'dependencies = ["fastapi[standard]>=0.110.0", "uvicorn>=0.29"]',
      ].join('\n'),
      'app/main.py': '',
      'app/routers/items.py': '',
    });
    const proposal = await detectContext(root);
    expectTop(proposal, 'fastapi', '0.110', 'pyproject.toml');
    expect(stack(proposal, 'python').version).toBe('3.11');
  });

  it('detects a plain Python project (Poetry) and proposes no framework', async () => {
    plant({
      'pyproject.toml': '[tool.poetry]\nname = "tool"\n\n[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.31"\n',
      'src/tool/__init__.py': '',
      'src/tool/cli.py': '',
    });
    const proposal = await detectContext(root);
    expectTop(proposal, 'python', '3.10', 'pyproject.toml');
    expect(names(proposal)).toEqual(['python']);
  });

  it('detects Python from the files alone, with less confidence than a manifest gives', async () => {
    plant(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => [`scripts/${name}.py`, ''])));
    const proposal = await detectContext(root);
    const python = expectTop(proposal, 'python', null, '.py');
    expect(python.confidence).toBe(0.5);
  });

  it('detects a Node project with its engines version', async () => {
    plant({ 'package.json': json({ name: 'api', dependencies: { express: '^4.19.2' }, engines: { node: '>=20' } }), 'index.js': '', 'routes/users.js': '' });
    const proposal = await detectContext(root);
    expectTop(proposal, 'node', '20', 'package.json');
    expect(names(proposal)).toEqual(['node']);
  });

  it('detects React on Vite', async () => {
    plant({
      'package.json': json({
        name: 'web',
        dependencies: { react: '^18.3.1', 'react-dom': '^18.3.1' },
        devDependencies: { vite: '^5.2.0', '@vitejs/plugin-react': '^4.2.1', typescript: '^5.2.2' },
      }),
      'vite.config.ts': '',
      'index.html': '',
      'src/main.tsx': '',
      'src/App.tsx': '',
    });
    const proposal = await detectContext(root);
    expectTop(proposal, 'react', '18.3', 'package.json');
    expect(names(proposal)).toEqual(['react', 'node']);
  });

  it('ranks Next.js before React before Node', async () => {
    plant({
      'package.json': json({ name: 'site', dependencies: { next: '^14.2.3', react: '^18', 'react-dom': '^18' } }),
      'next.config.mjs': '',
      'app/page.tsx': '',
      'app/layout.tsx': '',
    });
    const proposal = await detectContext(root);
    const next = expectTop(proposal, 'nextjs', '14.2', 'package.json');
    expect(next.evidence).toContain('next.config.mjs');
    expect(names(proposal)).toEqual(['nextjs', 'react', 'node']);
    expect(stack(proposal, 'react').version).toBe('18');
  });

  it('detects Vue', async () => {
    plant({
      'package.json': json({ name: 'ui', dependencies: { vue: '^3.4.21' }, devDependencies: { '@vitejs/plugin-vue': '^5.0.4', vite: '^5.2.0' } }),
      'src/App.vue': '',
      'src/components/Hello.vue': '',
      'src/main.js': '',
    });
    expectTop(await detectContext(root), 'vue', '3.4', 'package.json');
  });

  it('detects Angular and does not take the app for a TypeScript library', async () => {
    plant({
      'package.json': json({
        name: 'shop',
        dependencies: { '@angular/core': '^17.3.0', '@angular/common': '^17.3.0', rxjs: '~7.8.0' },
        devDependencies: { '@angular/cli': '^17.3.0', typescript: '~5.4.2' },
        exports: './dist',
      }),
      'angular.json': '{}',
      'tsconfig.json': '{}',
      'src/main.ts': '',
      'src/app/app.component.ts': '',
    });
    const proposal = await detectContext(root);
    const angular = expectTop(proposal, 'angular', '17.3', 'package.json');
    expect(angular.evidence).toContain('angular.json');
    expect(names(proposal)).not.toContain('typescript-library');
  });

  it('detects Electron declared as a dev dependency, as Electron apps do', async () => {
    plant({
      'package.json': json({ name: 'desk', main: 'main.js', devDependencies: { electron: '^30.0.1', 'electron-builder': '^24.13.3' } }),
      'electron-builder.yml': 'appId: x\n',
      'main.js': '',
      'preload.js': '',
    });
    const electron = expectTop(await detectContext(root), 'electron', '30.0', 'package.json');
    expect(electron.evidence).toContain('electron-builder.yml');
  });

  it('detects a TypeScript library: types and exports, tsconfig, no app framework', async () => {
    const manifest = {
      name: 'tiny-lib',
      type: 'module',
      exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
      types: './dist/index.d.ts',
      devDependencies: { typescript: '^5.4.5', vitest: '^1.6.0' },
    };
    plant({ 'package.json': json(manifest), 'tsconfig.json': '{}', 'src/index.ts': '', 'src/index.test.ts': '' });
    const proposal = await detectContext(root);
    const library = expectTop(proposal, 'typescript-library', '5.4', 'package.json');
    expect(library.evidence).toContain('tsconfig.json beside it');
    expect(names(proposal)).toEqual(['typescript-library', 'node']);

    // A peer framework is the host application's: still a library, for that framework.
    writeFileSync(join(root, 'package.json'), json({ ...manifest, peerDependencies: { react: '>=18' } }));
    expect(names(await detectContext(root))).toEqual(['typescript-library', 'react', 'node']);
  });

  it('detects Go with its go directive', async () => {
    plant({
      'go.mod': 'module example.com/hello\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.9.1\n',
      'go.sum': '',
      'main.go': '',
      'internal/server/server.go': '',
    });
    expectTop(await detectContext(root), 'go', '1.22', 'go.mod');
  });

  it('detects Rust with its edition, and no version when none is declared', async () => {
    plant({ 'Cargo.toml': '[package]\nname = "cli"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nserde = "1"\n', 'src/main.rs': '' });
    expectTop(await detectContext(root), 'rust', '2021', 'Cargo.toml');
    writeFileSync(join(root, 'Cargo.toml'), '[workspace]\nmembers = ["cli"]\n');
    expectTop(await detectContext(root), 'rust', null, 'Cargo.toml');
  });

  it('detects Maven with the Java version from pom.xml', async () => {
    plant({
      'pom.xml': [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<project xmlns="http://maven.apache.org/POM/4.0.0">',
        '  <!-- <java.version>8</java.version> -->',
        '  <parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId><version>3.2.5</version></parent>',
        '  <properties><java.version>17</java.version></properties>',
        '  <dependencies><dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency></dependencies>',
        '</project>',
      ].join('\n'),
      mvnw: '',
      'src/main/java/com/example/App.java': '',
    });
    expectTop(await detectContext(root), 'java-maven', '17', 'pom.xml');
  });

  it('detects Gradle with the Java toolchain version', async () => {
    plant({
      'build.gradle.kts': 'plugins { kotlin("jvm") version "1.9.23" }\njava { toolchain { languageVersion.set(JavaLanguageVersion.of(21)) } }\n',
      'settings.gradle.kts': 'rootProject.name = "app"\n',
      gradlew: '',
      'src/main/kotlin/App.kt': '',
    });
    expectTop(await detectContext(root), 'java-gradle', '21', 'build.gradle.kts');
  });

  it('detects Laravel before plain PHP', async () => {
    plant({
      'composer.json': json({ require: { php: '^8.2', 'laravel/framework': '^11.0' }, 'require-dev': { 'phpunit/phpunit': '^10.5' } }),
      artisan: '#!/usr/bin/env php\n',
      'app/Http/Controllers/Controller.php': '',
      'routes/web.php': '',
    });
    const proposal = await detectContext(root);
    const laravel = expectTop(proposal, 'php-laravel', '11.0', 'composer.json');
    expect(laravel.evidence).toContain('artisan');
    expect(names(proposal)).toEqual(['php-laravel', 'php']);
    expect(stack(proposal, 'php').version).toBe('8.2');
  });

  it('detects Rails before plain Ruby, versions from the Gemfile and its lock', async () => {
    plant({
      Gemfile: 'source "https://rubygems.org"\nruby "3.2.2"\ngem "rails", "~> 7.1.3"\ngem "pg"\n',
      'Gemfile.lock':
        'GEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (7.1.3)\n      rack (>= 2.2.4)\n    rails (7.1.3)\n      actionpack (= 7.1.3)\n\nRUBY VERSION\n   ruby 3.2.2p53\n',
      'bin/rails': '',
      'config/application.rb': '',
      'app/models/user.rb': '',
    });
    const proposal = await detectContext(root);
    const rails = expectTop(proposal, 'ruby-rails', '7.1', 'Gemfile');
    expect(rails.evidence).toContain('bin/rails');
    expect(stack(proposal, 'ruby').version).toBe('3.2');
  });
});

describe('detectContext on larger layouts', () => {
  it('finds both stacks of a monorepo', async () => {
    plant({
      'README.md': '',
      'frontend/package.json': json({ name: 'frontend', dependencies: { react: '^18.2.0', 'react-dom': '^18.2.0' } }),
      'frontend/src/App.jsx': '',
      'frontend/src/main.jsx': '',
      'backend/manage.py': '',
      'backend/requirements.txt': 'Django>=5.0,<5.1\n',
      'backend/shop/models.py': '',
      'backend/shop/views.py': '',
    });
    const proposal = await detectContext(root);
    expect(names(proposal)).toEqual(expect.arrayContaining(['react', 'node', 'django', 'python']));
    expect(stack(proposal, 'react').evidence.join('\n')).toContain('frontend/package.json');
    expect(stack(proposal, 'django').version).toBe('5.0');
    expect(stack(proposal, 'django').evidence.join('\n')).toContain('backend/requirements.txt');
    expect(names(proposal).indexOf('react')).toBeLessThan(names(proposal).indexOf('node'));
    expect(names(proposal).indexOf('django')).toBeLessThan(names(proposal).indexOf('python'));
  });

  it('detects an Odoo addons folder of many modules, with the series most of them declare', async () => {
    for (const [index, module] of ['library', 'sale_extra', 'stock_extra', 'hr_extra', 'portal_extra'].entries()) {
      const version = index === 4 ? '16.0.1.0.0' : `17.0.1.${index}.0`;
      plant({
        [`addons/${module}/__manifest__.py`]: `{'name': '${module}', 'version': '${version}', 'depends': ['base']}\n`,
        [`addons/${module}/__init__.py`]: '',
        [`addons/${module}/models/__init__.py`]: '',
      });
    }
    const proposal = await detectContext(root);
    const odoo = expectTop(proposal, 'odoo', '17.0', 'addons/');
    expect(odoo.evidence.join('\n')).toMatch(/__manifest__\.py.*\(and 4 more: addons\//);
  });

  it('says nothing about an empty folder', async () => {
    const proposal = await detectContext(root);
    expect(proposal).toMatchObject({ stacks: [], scannedFiles: 0, truncated: false, extensions: {} });
  });

  it('says nothing about a folder of documents', async () => {
    plant({ 'notes.txt': 'hello', 'todo.md': '- x', 'data/table.csv': 'a,b', 'data/photo.jpg': Buffer.from([0xff, 0xd8, 0xff]) });
    const proposal = await detectContext(root);
    expect(proposal.stacks).toEqual([]);
    expect(proposal.scannedFiles).toBe(4);
    expect(proposal.extensions).toEqual({ '.csv': 1, '.jpg': 1, '.md': 1, '.txt': 1 });
  });

  it('ignores dependencies, virtualenvs and build output', async () => {
    plant({
      'requirements.txt': 'requests\n',
      'tool.py': '',
      'node_modules/react/package.json': json({ name: 'react', dependencies: { next: '14.0.0' } }),
      '.venv/lib/python3.12/site-packages/django/__init__.py': '',
      'env/pyvenv.cfg': 'home = /usr/bin\n',
      'env/lib/requirements.txt': 'Django==4.2\n',
      'build/package.json': json({ dependencies: { vue: '3.4.0' } }),
    });
    const proposal = await detectContext(root);
    expect(names(proposal)).toEqual(['python']);
  });
});

describe('detectContext on broken input', () => {
  it('keeps an invalid package.json as weaker evidence, with a note naming it', async () => {
    plant({ 'package.json': '{ "name": "broken", "dependencies": { "react": "^18.2.0" }', 'index.js': '', 'lib/util.js': '' });
    const broken = await detectContext(root);
    const node = expectTop(broken, 'node', null, 'package.json');
    expect(node.evidence.join('\n')).toMatch(/package\.json: not valid JSON \(.+\)/);
    expect(names(broken)).not.toContain('react');

    writeFileSync(join(root, 'package.json'), json({ name: 'fixed', dependencies: { react: '^18.2.0' } }));
    expect(stack(await detectContext(root), 'node').confidence).toBeGreaterThan(node.confidence);
  });

  it('reads what it can of an invalid __manifest__.py, with less confidence and a note, and never runs it', async () => {
    plant(odoo17Module);
    const valid = stack(await detectContext(root), 'odoo');
    writeFileSync(join(root, '__manifest__.py'), "{\n    'name': 'Library Books',\n    'version': '17.0.1.0.0',\n    'depends': ['base'],\n");
    const unclosed = expectTop(await detectContext(root), 'odoo', '17.0', '__manifest__.py');
    expect(unclosed.confidence).toBeLessThan(valid.confidence);
    expect(unclosed.evidence.join('\n')).toMatch(/__manifest__\.py: not a valid manifest \(the dict is never closed/);

    const marker = join(root, 'ran');
    writeFileSync(join(root, '__manifest__.py'), `import os\nos.mkdir(${JSON.stringify(marker)})\n{'name': 'x'}\n`);
    const program = stack(await detectContext(root), 'odoo');
    expect(program.evidence.join('\n')).toMatch(/does not start with '\{' \(line 1\)/);
    expect(() => rmSync(marker)).toThrow(/ENOENT/);
  });

  it('skips an oversized or binary manifest with a note, counting its name', async () => {
    plant({
      'package.json': json({ name: 'big', description: 'x'.repeat(4096), dependencies: { next: '14.0.0' } }),
      'Cargo.toml': Buffer.from([0x5b, 0x00, 0x01]),
    });
    const proposal = await detectContext(root, { maxManifestBytes: 1024 });
    expect(stack(proposal, 'node').evidence.join('\n')).toMatch(/package\.json: not read: \d+ bytes, over the 1024-byte limit/);
    expect(stack(proposal, 'rust').evidence.join('\n')).toMatch(/Cargo\.toml: not read: binary content/);
    expect(names(proposal)).not.toContain('nextjs');
  });

  it('survives a symlink loop and never follows links, to folders or to manifests', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'npllm-context-outside-'));
    try {
      plant({ 'composer.json': json({ require: { 'laravel/framework': '^11.0' } }) }, outside);
      plant({ 'package.json': json({ name: 'app' }), 'src/index.js': '' });
      symlinkSync(root, join(root, 'loop'));
      symlinkSync('..', join(root, 'src', 'up'));
      symlinkSync(outside, join(root, 'linked'));
      symlinkSync(join(outside, 'composer.json'), join(root, 'composer.json'));
      const proposal = await detectContext(root);
      expect(names(proposal)).toEqual(['node']);
      expect(proposal.scannedFiles).toBe(2);
      expect(proposal.truncated).toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('throws a RequestError naming the fix for a missing path or a file', async () => {
    const missing = detectContext(join(root, 'nope'));
    await expect(missing).rejects.toBeInstanceOf(RequestError);
    await expect(missing).rejects.toMatchObject({ code: 'NOT_FOUND', fix: expect.stringMatching(/path/) });
    plant({ 'file.txt': '' });
    await expect(detectContext(join(root, 'file.txt'))).rejects.toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringMatching(/is a file/) });
  });

  it('rejects nonsensical limits and stops when cancelled', async () => {
    await expect(detectContext(root, { maxEntries: 0 })).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
      fix: expect.stringContaining(String(defaults().maxEntries)),
    });
    await expect(detectContext(root, { minConfidence: 2 })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(detectContext(root, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('detectContext limits', () => {
  it('stops at the depth limit and says so', async () => {
    plant({ 'a/b/package.json': json({ dependencies: { next: '14.0.0' } }) });
    const shallow = await detectContext(root, { maxDepth: 1 });
    expect(shallow.stacks).toEqual([]);
    expect(shallow.truncated).toBe(true);
    expect(names(await detectContext(root))).toContain('nextjs');
  });

  it('still finds a manifest in a folder too large to list', async () => {
    plant(Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`asset${index}.txt`, ''])));
    plant({ 'go.mod': 'module x\n\ngo 1.21\n' });
    const proposal = await detectContext(root, { maxEntriesPerFolder: 50 });
    expect(proposal.truncated).toBe(true);
    expect(proposal.scannedFiles).toBe(50);
    expectTop(proposal, 'go', '1.21', 'go.mod');
  });

  it('lists the most frequent extensions, as many as asked', async () => {
    plant({ 'a.py': '', 'b.py': '', 'c.py': '', 'd.ts': '', 'e.ts': '', 'f.md': '', Makefile: '' });
    const proposal = await detectContext(root, { topExtensions: 2 });
    expect(proposal.extensions).toEqual({ '.py': 3, '.ts': 2 });
    expect(proposal.scannedFiles).toBe(7);
    expect(proposal.elapsedMs).toBeGreaterThanOrEqual(0);
  });
});
