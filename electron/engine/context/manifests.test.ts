import { describe, expect, it } from 'vitest';
import { dictLiteralProblem, manifestKind, parseManifest, type Manifest, type ManifestKind } from './manifests.js';

function parse(kind: ManifestKind, text: string): Manifest {
  return parseManifest('x', kind, text);
}

function ranges(manifest: Manifest): Record<string, string> {
  return Object.fromEntries([...manifest.dependencies].map(([name, dependency]) => [name, dependency.range]));
}

describe('manifestKind', () => {
  it('knows manifests by name and requirements files by pattern or folder', () => {
    expect(manifestKind('package.json')).toBe('package.json');
    expect(manifestKind('web/build.gradle.kts')).toBe('build.gradle');
    expect(manifestKind('addons/x/__openerp__.py')).toBe('odoo');
    expect(manifestKind('requirements-dev.txt')).toBe('requirements');
    expect(manifestKind('requirements/base.txt')).toBe('requirements');
    expect(manifestKind('api/requirements/prod.txt')).toBe('requirements');
    expect(manifestKind('notes.txt')).toBeUndefined();
    expect(manifestKind('requirementsxyz.txt')).toBeUndefined();
    expect(manifestKind('src/main.py')).toBeUndefined();
  });
});

describe('Python manifests', () => {
  it('reads PEP 508 lines, skipping options, URLs and comments', () => {
    const manifest = parse(
      'requirements',
      [
        'Django[argon2]>=4.2,<5 ; python_version > "3.8"  # web',
        'Flask (==3.0.0)',
        'My_Package.Name==1.0',
        '-r base.txt',
        '-e .',
        'https://example.com/x.whl',
        'pkg @ https://example.com/pkg.zip',
        '# django==1',
      ].join('\n'),
    );
    expect(ranges(manifest)).toEqual({ django: '>=4.2,<5', flask: '==3.0.0', 'my-package-name': '==1.0', pkg: '' });
  });

  it('reads pyproject [project] and [tool.poetry] tables, with the Python version', () => {
    const manifest = parse(
      'pyproject.toml',
      [
        '[project]',
        'dependencies = ["fastapi>=0.110"]',
        'requires-python = ">=3.11"',
        '[project.optional-dependencies]',
        'test = ["pytest>=8"]',
        '[tool.poetry.dependencies]',
        'python = "^3.10"',
        'Django = { version = "^4.2", extras = ["bcrypt"] }',
        '[tool.poetry.group.dev.dependencies]',
        'black = "^24"',
      ].join('\n'),
    );
    expect(ranges(manifest)).toEqual({ fastapi: '>=0.110', pytest: '>=8', django: '^4.2', black: '^24' });
    expect(manifest.dependencies.get('black')?.section).toBe('tool.poetry.group.dev.dependencies');
    expect(manifest.runtimeVersion).toBe('>=3.11');
  });

  it('reports invalid TOML by its first line, without throwing', () => {
    const manifest = parse('pyproject.toml', '[project\nname = "x"\n');
    expect(manifest.problem).toMatch(/^not valid TOML \([^\n]+\)$/);
  });

  it('reads Pipfile packages and python_version', () => {
    const manifest = parse(
      'Pipfile',
      '[packages]\nflask = "*"\nrequests = {version = ">=2.31"}\n[dev-packages]\npytest = "*"\n[requires]\npython_version = "3.12"\n',
    );
    expect(ranges(manifest)).toEqual({ flask: '*', requests: '>=2.31', pytest: '*' });
    expect(manifest.runtimeVersion).toBe('3.12');
  });

  it('reads only the literal install_requires of setup.py and setup.cfg', () => {
    const setupPy = parse(
      'setup.py',
      'from setuptools import setup\nsetup(\n    install_requires=[\n        "Django>=3.2",\n        \'celery\',\n    ],\n    python_requires=">=3.8",\n)\n',
    );
    expect(ranges(setupPy)).toEqual({ django: '>=3.2', celery: '' });
    expect(setupPy.runtimeVersion).toBe('>=3.8');
    expect(parse('setup.py', 'setup(install_requires=read_requirements())').dependencies.size).toBe(0);

    const setupCfg = parse(
      'setup.cfg',
      '[metadata]\nname = x\n\n[options]\npython_requires = >=3.9\ninstall_requires =\n    flask>=2\n    click\nzip_safe = False\n\n[options.extras_require]\ndev = pytest\n',
    );
    expect(ranges(setupCfg)).toEqual({ flask: '>=2', click: '' });
    expect(setupCfg.runtimeVersion).toBe('>=3.9');
  });
});

describe('other manifests', () => {
  it('reads package.json sections in order of precedence, engines and library fields', () => {
    const manifest = parse(
      'package.json',
      JSON.stringify({
        dependencies: { react: '^18.2.0' },
        devDependencies: { react: '^17', typescript: '^5.4.0' },
        engines: { node: '>=20' },
        types: 'x.d.ts',
      }),
    );
    expect(manifest.dependencies.get('react')).toEqual({ range: '^18.2.0', section: 'dependencies' });
    expect(manifest.runtimeVersion).toBe('>=20');
    expect(manifest.libraryFields).toEqual(['types']);
    expect(parse('package.json', '[1, 2]').problem).toBe('not a JSON object');
  });

  it('reads go.mod, and notes one without a module directive', () => {
    expect(parse('go.mod', 'module x\n\ngo 1.22.3\n').runtimeVersion).toBe('1.22.3');
    expect(parse('go.mod', 'go 1.21\n').problem).toBe('no module directive');
  });

  it('reads the Java version from pom.xml and Gradle builds', () => {
    expect(parse('pom.xml', '<project><properties><maven.compiler.source>1.8</maven.compiler.source></properties></project>').runtimeVersion).toBe('1.8');
    expect(parse('pom.xml', '<html></html>').problem).toBe('no <project> element');
    expect(parse('build.gradle', 'java {\n  sourceCompatibility = JavaVersion.VERSION_11\n}\n').runtimeVersion).toBe('11');
    expect(parse('build.gradle', 'kotlin { jvmToolchain(17) }').runtimeVersion).toBe('17');
  });

  it('reads the resolved gems of a Gemfile.lock, not their requirements', () => {
    const manifest = parse(
      'Gemfile.lock',
      'GEM\n  specs:\n    rails (7.1.3)\n      railties (= 7.1.3)\n    railties (7.1.3)\n\nRUBY VERSION\n   ruby 3.3.0p0\n',
    );
    expect(ranges(manifest)).toEqual({ rails: '7.1.3', railties: '7.1.3' });
    expect(manifest.runtimeVersion).toBe('3.3.0p0');
  });

  it('reads composer.json with the PHP version', () => {
    const manifest = parse('composer.json', JSON.stringify({ require: { PHP: '>=8.1', 'Laravel/Framework': '^10.10' } }));
    expect(ranges(manifest)).toEqual({ php: '>=8.1', 'laravel/framework': '^10.10' });
    expect(manifest.runtimeVersion).toBe('>=8.1');
  });
});

describe('Odoo manifests', () => {
  it('picks name, version and depends out of the dict literal', () => {
    const manifest = parse(
      'odoo',
      `# comment with { and '\n{\n  "name": u"Stock Extra",\n  'version': '17.0.2.1.0',\n  'depends': ('stock', "sale"),\n  'description': """\n  A { brace in text.\n  """,\n}\n`,
    );
    expect(manifest.odoo).toEqual({ name: 'Stock Extra', version: '17.0.2.1.0', depends: ['stock', 'sale'] });
    expect(manifest.problem).toBeNull();
  });

  it('says what is wrong with a manifest that is not one dict literal', () => {
    expect(dictLiteralProblem("{'name': 'x'")).toBe('the dict is never closed (1 bracket left open)');
    expect(dictLiteralProblem("{'depends': ['base')}")).toBe("unbalanced ')' (line 1)");
    expect(dictLiteralProblem("{'name': 'x}\n")).toBe('unterminated string (line 1)');
    expect(dictLiteralProblem("{'name': 'x'}\nprint('hi')")).toBe('unexpected text after the closing brace (line 2)');
    expect(dictLiteralProblem('\n# only a comment\n')).toBe('empty: no dict literal');
    expect(dictLiteralProblem('"""Module docstring."""\n{"name": "x"}')).toBeNull();
    expect(parse('odoo', "{'license': 'LGPL-3'}").problem).toBe("neither a 'name' nor a 'depends' entry");
  });
});
