import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, NpllmError } from '../../../shared/errors.js';
import { tempHome, type TempHome } from '../test/support.js';
import { alphabets, fakeToken } from '../test/secrets.js';
import type { FileReadResult, SkipReason, WalkEntry } from './types.js';
import { readProjectFile } from './read-file.js';
import { walkProject, type WalkOptions } from './walker.js';

let temp: TempHome;
let root: string;

beforeEach(() => {
  temp = tempHome('npllm-walker-');
  root = join(temp.home, 'project');
  mkdirSync(root);
});

afterEach(() => {
  temp.cleanup();
});

function plant(files: Record<string, string | Buffer>, base = root): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), content);
  }
}

interface Walk {
  entries: WalkEntry[];
  paths: string[];
  skips: { reason: SkipReason; path: string; detail: string }[];
  skipped(reason: SkipReason): string[];
}

async function walk(options: WalkOptions = {}, from = root): Promise<Walk> {
  const skips: Walk['skips'] = [];
  const entries: WalkEntry[] = [];
  for await (const entry of walkProject(from, { ...options, onSkip: (reason, path, detail) => skips.push({ reason, path, detail }) })) {
    entries.push(entry);
  }
  return {
    entries,
    paths: entries.map((entry) => entry.relativePath),
    skips,
    skipped: (reason) => skips.filter((skip) => skip.reason === reason).map((skip) => skip.path),
  };
}

async function read(entry: WalkEntry | undefined, maxFileBytes?: number): Promise<FileReadResult> {
  if (!entry) throw new Error('the walk did not yield the file');
  return readProjectFile(entry, { maxFileBytes });
}

function entryFor(walked: Walk, path: string): WalkEntry | undefined {
  return walked.entries.find((entry) => entry.relativePath === path);
}

const runsAsRoot = process.getuid?.() === 0;

const ignoreFixture = {
  '.gitignore': '# build products\n*.log\n!keep.log\n/generated/\ntmp/\nartifacts/\n',
  '.git/info/exclude': 'excluded-locally.txt\n',
  'src/.gitignore': '!debug.log\nlocal-*\n',
  'pkg/.gitignore': '!artifacts/\n',
  'src/a.ts': 'export const a = 1;\n',
  'src/debug.log': 'kept by a nested negation\n',
  'src/other.log': 'ignored from the root\n',
  'src/local-notes.md': 'ignored by the nested file\n',
  'src/generated/ok.ts': 'only the root generated/ is ignored\n',
  'src/tmp/t.txt': 'unanchored folder pattern\n',
  'keep.log': 'negated\n',
  'x.log': 'ignored\n',
  'generated/g.ts': 'ignored folder\n',
  'tmp/t.txt': 'ignored folder\n',
  'excluded-locally.txt': 'ignored by .git/info/exclude\n',
  'artifacts/b.js': 'ignored folder\n',
  'pkg/artifacts/a.js': 're-included by pkg/.gitignore\n',
  'pkg/artifacts/a.log': 'the root *.log still applies inside\n',
};

const trackedByIgnoreFixture = [
  '.gitignore',
  'keep.log',
  'pkg/.gitignore',
  'pkg/artifacts/a.js',
  'src/.gitignore',
  'src/a.ts',
  'src/debug.log',
  'src/generated/ok.ts',
];

describe('walkProject: ignore files', () => {
  it('applies every .gitignore to its own subtree, negations and .git/info/exclude included', async () => {
    plant(ignoreFixture);
    const walked = await walk();
    expect(walked.paths).toEqual(trackedByIgnoreFixture);
    expect(walked.skipped('ignored').sort()).toEqual(
      [
        '.git',
        'artifacts',
        'excluded-locally.txt',
        'generated',
        'pkg/artifacts/a.log',
        'src/local-notes.md',
        'src/other.log',
        'src/tmp',
        'tmp',
        'x.log',
      ].sort(),
    );
    expect(walked.skips).toContainEqual({ reason: 'ignored', path: 'src/local-notes.md', detail: 'src/.gitignore: local-*' });
    expect(walked.skips).toContainEqual({ reason: 'ignored', path: 'excluded-locally.txt', detail: '.git/info/exclude: excluded-locally.txt' });
  });

  it('agrees with git about which files are not ignored', async () => {
    // The user's global excludes file would make git ignore more than the project says.
    const env = { ...process.env, HOME: temp.home, XDG_CONFIG_HOME: temp.home, GIT_CONFIG_NOSYSTEM: '1' };
    execFileSync('git', ['init', '--quiet', root], { env });
    plant(ignoreFixture);
    const gitSays = execFileSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: root, env, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect((await walk()).paths).toEqual(gitSays.sort());
  });

  it('leaves out dependencies, virtualenvs, build output, lock files, generated files and binaries', async () => {
    plant({
      'main.py': 'print("hi")\n',
      'node_modules/left-pad/index.js': 'x',
      'vendor/lib.go': 'x',
      'third_party/lib.c': 'x',
      'bower_components/jquery.js': 'x',
      '.venv/lib/site.py': 'x',
      'venv/lib/site.py': 'x',
      'env/pyvenv.cfg': 'home = /usr/bin\n',
      'env/lib/site.py': 'x',
      'tools/env/settings.py': 'an env folder without pyvenv.cfg is source\n',
      '__pycache__/main.cpython-312.pyc': 'x',
      '.tox/py312/x.py': 'x',
      '.mypy_cache/x.json': 'x',
      '.pytest_cache/x': 'x',
      'dist/app.js': 'x',
      'build/app.js': 'x',
      'out/app.js': 'x',
      'target/debug/app': 'x',
      '.next/server.js': 'x',
      '.nuxt/app.js': 'x',
      'coverage/lcov.info': 'x',
      '.cache/x': 'x',
      'my_pkg.egg-info/PKG-INFO': 'x',
      '.hg/store': 'x',
      '.svn/entries': 'x',
      'package-lock.json': '{}',
      'yarn.lock': 'x',
      'pnpm-lock.yaml': 'x',
      'poetry.lock': 'x',
      'Cargo.lock': 'x',
      'composer.lock': 'x',
      'Gemfile.lock': 'x',
      'uv.lock': 'x',
      'web/app.min.js': 'x',
      'web/app.js.map': 'x',
      'web/logo.png': 'x',
      'web/font.woff2': 'x',
      'models/model.gguf': 'x',
      'models/model.onnx': 'x',
      'data.sqlite': 'x',
      'lib/native.so': 'x',
      'lib/native.dll': 'x',
      'bin/tool.exe': 'x',
      'Main.class': 'x',
      'mod.pyc': 'x',
      'app.wasm': 'x',
      'release.zip': 'x',
      'demo.mp4': 'x',
    });
    const walked = await walk();
    expect(walked.paths).toEqual(['main.py', 'tools/env/settings.py']);
    expect(walked.skipped('binary').sort()).toEqual(
      [
        'web/logo.png',
        'web/font.woff2',
        'models/model.gguf',
        'models/model.onnx',
        'data.sqlite',
        'lib/native.so',
        'lib/native.dll',
        'bin/tool.exe',
        'Main.class',
        'mod.pyc',
        'app.wasm',
        'release.zip',
        'demo.mp4',
      ].sort(),
    );
    expect(walked.skips).toContainEqual({ reason: 'ignored', path: 'env', detail: 'built-in: virtualenv (pyvenv.cfg)' });
    expect(walked.skips).toContainEqual({ reason: 'ignored', path: 'yarn.lock', detail: 'built-in: lock file' });
    expect(walked.skipped('ignored')).not.toContain('node_modules/left-pad/index.js');
  });
});

describe('walkProject and readProjectFile: secrets', () => {
  it('never yields secrets by name and refuses secrets by content', async () => {
    const githubToken = `ghp_${fakeToken(alphabets.alphanumeric, 36)}`;
    plant({
      '.gitignore': '.env\n',
      '.env': `GITHUB_TOKEN=${githubToken}\n`,
      '.env.local': 'X=1\n',
      '.env.example': 'GITHUB_TOKEN=\nDATABASE_URL=postgres://localhost/app\n',
      'config.py': `import os\n\nGITHUB_TOKEN = "${githubToken}"\n`,
      'settings.py': 'GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n',
      'deploy/id_rsa': 'x',
      'deploy/server.pem': 'x',
      'deploy/server.crt': 'x',
      '.npmrc': 'x',
      'gcp/credentials.json': '{}',
      'gcp/service-account-ci.json': '{}',
      'home/.aws/credentials': 'x',
      'home/.docker/config.json': '{}',
      'infra/terraform.tfvars': 'x',
      'infra/terraform.tfstate': '{}',
      kubeconfig: 'x',
    });
    const walked = await walk();
    // `.env` is both gitignored and a secret: it counts as a secret, the stronger reason.
    expect(walked.skipped('secret').sort()).toEqual(
      [
        '.env',
        '.env.local',
        '.npmrc',
        'deploy/id_rsa',
        'deploy/server.crt',
        'deploy/server.pem',
        'gcp/credentials.json',
        'gcp/service-account-ci.json',
        'home/.aws/credentials',
        'home/.docker/config.json',
        'infra/terraform.tfstate',
        'infra/terraform.tfvars',
        'kubeconfig',
      ].sort(),
    );
    expect(walked.paths).toEqual(['.env.example', '.gitignore', 'config.py', 'settings.py']);

    const results = new Map(await Promise.all(walked.entries.map(async (entry) => [entry.relativePath, await read(entry)] as const)));
    expect(results.get('config.py')).toEqual({ ok: false, reason: 'secret', detail: 'GitHub token on line 3' });
    expect(results.get('.env.example')).toMatchObject({ ok: true });
    expect(results.get('settings.py')).toMatchObject({ ok: true });
    for (const result of results.values()) expect(JSON.stringify(result)).not.toContain(githubToken);
  });

  it('does not follow a harmless-looking symlink to a secret file, inside the project or out of it', async () => {
    plant({ '.ssh/id_ed25519': 'x' }, temp.home);
    plant({ 'keys/id_rsa': 'x' });
    symlinkSync(join(temp.home, '.ssh', 'id_ed25519'), join(root, 'deploy-key'));
    symlinkSync(join(root, 'keys', 'id_rsa'), join(root, 'ci-key'));
    const walked = await walk();
    expect(walked.paths).toEqual([]);
    expect(walked.skips).toEqual([
      { reason: 'secret', path: 'ci-key', detail: 'symlink to a private key file' },
      { reason: 'outside-project', path: 'deploy-key', detail: `symlink to ${join(temp.home, '.ssh', 'id_ed25519')}, outside the project` },
      { reason: 'secret', path: 'keys/id_rsa', detail: 'private key file (by name)' },
    ]);
  });
});

describe('readProjectFile', () => {
  it('returns the text and the SHA-256 of it', async () => {
    plant({ 'a.ts': 'export const café = "☕";\n' });
    const walked = await walk();
    const content = 'export const café = "☕";\n';
    expect(await read(walked.entries[0])).toEqual({ ok: true, content, contentHash: createHash('sha256').update(content).digest('hex') });
  });

  it('calls a file with NUL bytes binary, whatever its name', async () => {
    plant({
      'data.txt': Buffer.concat([Buffer.from('header\n'), Buffer.from([0, 1, 2, 3]), Buffer.from('more text\n')]),
      blob: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]),
    });
    const walked = await walk();
    expect(await read(entryFor(walked, 'data.txt'))).toEqual({ ok: false, reason: 'binary', detail: 'NUL byte in the first 8 KiB' });
    expect(await read(entryFor(walked, 'blob'))).toMatchObject({ ok: false, reason: 'binary' });
  });

  it('decodes a few invalid UTF-8 bytes lossily and calls mostly invalid bytes binary', async () => {
    const latin1Comment = Buffer.concat([Buffer.from('// caf'), Buffer.from([0xe9]), Buffer.from(` au lait\n${'const x = 1;\n'.repeat(20)}`)]);
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => 0x80 + ((i * 37) % 0x7f)));
    const controls = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 0x01 : 0x41)));
    plant({ 'latin1.js': latin1Comment, 'garbage.txt': garbage, 'controls.txt': controls });
    const walked = await walk();
    const lossy = await read(entryFor(walked, 'latin1.js'));
    expect(lossy).toMatchObject({ ok: true });
    expect(lossy.ok && lossy.content.startsWith('// caf\uFFFD au lait\n')).toBe(true);
    expect(await read(entryFor(walked, 'garbage.txt'))).toMatchObject({ ok: false, reason: 'binary', detail: expect.stringContaining('not UTF-8') });
    expect(await read(entryFor(walked, 'controls.txt'))).toEqual({ ok: false, reason: 'binary', detail: 'mostly control characters' });
  });

  it('keeps U+FFFD written in the file itself', async () => {
    plant({ 'replacement.txt': 'The replacement character: \uFFFD\uFFFD\uFFFD\n' });
    expect(await read((await walk()).entries[0])).toMatchObject({ ok: true, content: 'The replacement character: \uFFFD\uFFFD\uFFFD\n' });
  });

  it('reports a file deleted after the walk as vanished and one grown past the limit as too large', async () => {
    plant({ 'gone.ts': 'x', 'growing.log.ts': 'x' });
    const walked = await walk({ maxFileBytes: 100 });
    rmSync(join(root, 'gone.ts'));
    appendFileSync(join(root, 'growing.log.ts'), 'y'.repeat(200));
    expect(await read(entryFor(walked, 'gone.ts'), 100)).toEqual({ ok: false, reason: 'vanished', detail: 'no longer exists' });
    expect(await read(entryFor(walked, 'growing.log.ts'), 100)).toMatchObject({ ok: false, reason: 'too-large' });
  });

  it('throws CancelledError when the signal is already aborted', async () => {
    plant({ 'a.ts': 'x' });
    const [entry] = (await walk()).entries;
    await expect(readProjectFile(entry!, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('walkProject: the file system changing and misbehaving', () => {
  it('skips files over maxFileBytes', async () => {
    plant({ 'small.ts': 'x'.repeat(100), 'big.ts': 'x'.repeat(101) });
    const walked = await walk({ maxFileBytes: 100 });
    expect(walked.paths).toEqual(['small.ts']);
    expect(walked.skips).toEqual([{ reason: 'too-large', path: 'big.ts', detail: '101 bytes, over the 100-byte limit' }]);
  });

  it('follows symlinks once and reports loops instead of walking them forever', async () => {
    plant({ 'a/file.ts': 'x', 'shared/lib.ts': 'x', 'tools/util.ts': 'x' });
    symlinkSync('..', join(root, 'a', 'parent'));
    symlinkSync('self', join(root, 'self'));
    symlinkSync(join(root, 'tools'), join(root, 'linked'));
    symlinkSync(join(root, 'tools'), join(root, 'linked-again'));
    symlinkSync('shared/lib.ts', join(root, 'lib-link.ts'));
    symlinkSync('missing.ts', join(root, 'broken.ts'));
    const walked = await walk();
    // `linked-again/` sorts before `linked/` ('-' < '/') and `tools/`, so it is the one walked.
    expect(walked.paths).toEqual(['a/file.ts', 'lib-link.ts', 'linked-again/util.ts', 'shared/lib.ts']);
    expect(walked.skips.sort((x, y) => (x.path < y.path ? -1 : 1))).toEqual([
      { reason: 'symlink-loop', path: 'a/parent', detail: 'leads back to the project root' },
      { reason: 'unreadable', path: 'broken.ts', detail: 'broken symlink' },
      { reason: 'symlink-loop', path: 'linked', detail: 'same folder as linked-again, already walked' },
      { reason: 'symlink-loop', path: 'self', detail: 'symlinks point at each other' },
      { reason: 'symlink-loop', path: 'tools', detail: 'same folder as linked-again, already walked' },
    ]);
  });

  it('never follows a symlink out of the project: not to another folder, /etc, /proc/self or the root above', async () => {
    plant({ 'src/app.ts': 'x' });
    plant({ 'outside/util.ts': 'x', 'notes.md': 'x' }, temp.home);
    symlinkSync(join(temp.home, 'outside'), join(root, 'vendor-link'));
    symlinkSync(join(temp.home, 'notes.md'), join(root, 'notes.md'));
    symlinkSync('/etc', join(root, 'etc'));
    symlinkSync('/proc/self', join(root, 'self-proc'));
    symlinkSync('/', join(root, 'everything'));
    const walked = await walk();
    expect(walked.paths).toEqual(['src/app.ts']);
    expect(walked.skips.map((skip) => [skip.path, skip.reason]).sort()).toEqual(
      [
        ['etc', 'outside-project'],
        ['everything', 'outside-project'],
        ['notes.md', 'outside-project'],
        ['self-proc', 'outside-project'],
        ['vendor-link', 'outside-project'],
      ].sort(),
    );
  });

  it('does not read a file swapped for a symlink out of the project after the walk', async () => {
    plant({ 'config.py': 'DEBUG = True\n' });
    plant({ 'elsewhere.py': 'PRIVATE = 1\n' }, temp.home);
    const walked = await walk();
    rmSync(join(root, 'config.py'));
    symlinkSync(join(temp.home, 'elsewhere.py'), join(root, 'config.py'));
    expect(await read(walked.entries[0])).toMatchObject({ ok: false, reason: 'outside-project' });
  });

  it('reports a folder it cannot list as unreadable (root reads anything: then the files come through)', async () => {
    plant({ 'locked/inside.ts': 'x', 'open.ts': 'x' });
    chmodSync(join(root, 'locked'), 0o000);
    try {
      const walked = await walk();
      if (runsAsRoot) {
        expect(walked.paths).toEqual(['locked/inside.ts', 'open.ts']);
        expect(walked.skipped('unreadable')).toEqual([]);
      } else {
        expect(walked.paths).toEqual(['open.ts']);
        expect(walked.skips).toEqual([{ reason: 'unreadable', path: 'locked', detail: 'permission denied' }]);
      }
    } finally {
      chmodSync(join(root, 'locked'), 0o755);
    }
  });

  it('streams: a folder removed while the walk is under way is reported as vanished, not thrown', async () => {
    plant({ 'a/1.ts': 'x', 'a/2.ts': 'x', 'z/late.ts': 'x' });
    const paths: string[] = [];
    const skips: string[] = [];
    for await (const entry of walkProject(root, { onSkip: (reason, path) => skips.push(`${reason} ${path}`) })) {
      paths.push(entry.relativePath);
      if (entry.relativePath === 'a/1.ts') rmSync(join(root, 'z'), { recursive: true });
    }
    expect(paths).toEqual(['a/1.ts', 'a/2.ts']);
    expect(skips).toEqual(['vanished z']);
  });

  it('stops with CancelledError soon after the signal aborts', async () => {
    plant(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`dir${i % 5}/f${i}.ts`, 'x'])));
    const controller = new AbortController();
    const seen: string[] = [];
    const walking = (async () => {
      for await (const entry of walkProject(root, { signal: controller.signal })) {
        seen.push(entry.relativePath);
        if (seen.length === 3) controller.abort();
      }
    })();
    await expect(walking).rejects.toSatisfy((error) => error instanceof CancelledError && error.code === 'CANCELLED');
    expect(seen).toHaveLength(3);
  });

  it('yields the same order every time: sorted by relativePath across folders', async () => {
    const names = ['b.ts', 'a-b.ts', 'a/x.ts', 'a.txt', 'a0.ts', 'B.ts', 'a/b/c.ts', 'a/b-c.ts', 'ä.ts', 'z/y/x.ts', '_.ts', '.hidden.ts'];
    plant(Object.fromEntries(names.map((name) => [name, 'x'])));
    const first = (await walk()).paths;
    expect(first).toEqual([...names].sort());
    expect((await walk()).paths).toEqual(first);
  });

  it('rejects a missing root, a file as root and a nonsensical size limit with fixable errors', async () => {
    plant({ 'file.ts': 'x' });
    await expect(walk({}, join(root, 'missing'))).rejects.toMatchObject({ code: 'NOT_FOUND', fix: expect.any(String) });
    await expect(walk({}, join(root, 'file.ts'))).rejects.toMatchObject({ code: 'REQUEST_INVALID', fix: expect.any(String) });
    await expect(walk({ maxFileBytes: 0 })).rejects.toBeInstanceOf(NpllmError);
  });
});
