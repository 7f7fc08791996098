import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { engineEnvironment, trainerResource } from './engine-env.js';

const repo = join(import.meta.dirname, '..', '..');
let scratch: string | null = null;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
});

/** The folders electron-builder makes on Linux: <install>/resources/{app.asar, trainer/npllm-train, licences}. */
function packagedLayout(): { resources: string; trainer: string } {
  scratch = mkdtempSync(join(tmpdir(), 'npllm-packaged-'));
  const resources = join(scratch, 'opt', 'npllm', 'resources');
  mkdirSync(join(resources, 'trainer'), { recursive: true });
  const trainer = join(resources, 'trainer', 'npllm-train');
  writeFileSync(trainer, '#!/bin/sh\n');
  chmodSync(trainer, 0o755);
  writeFileSync(join(resources, 'app.asar'), '');
  return { resources, trainer };
}

describe('the engine environment', () => {
  it('keeps the data in the app data folder, and nothing else changes in development', () => {
    const env = engineEnvironment({
      env: { PATH: '/usr/bin' },
      userData: '/home/someone/.config/npllm',
      packaged: false,
      resourcesPath: '/nowhere',
      platform: 'linux',
    });
    expect(env).toEqual({ PATH: '/usr/bin', NPLLM_HOME: '/home/someone/.config/npllm' });
  });

  it('in a packaged app names the trainer it ships, and that file is where electron-builder puts it', () => {
    const { resources, trainer } = packagedLayout();
    const env = engineEnvironment({ env: {}, userData: '/home/someone/.config/npllm', packaged: true, resourcesPath: resources, platform: 'linux' });
    expect(env['NPLLM_TRAINER']).toBe(trainer);
    expect(existsSync(env['NPLLM_TRAINER']!)).toBe(true);
    expect(trainerResource(resources, 'win32')).toBe(join(resources, 'trainer', 'npllm-train.exe'));
  });

  it('a trainer the user names wins over the shipped one', () => {
    const { resources } = packagedLayout();
    const env = engineEnvironment({
      env: { NPLLM_TRAINER: '/opt/custom/npllm-train' },
      userData: '/u',
      packaged: true,
      resourcesPath: resources,
      platform: 'linux',
    });
    expect(env['NPLLM_TRAINER']).toBe('/opt/custom/npllm-train');
  });
});

describe('electron-builder configuration', () => {
  const config = parse(readFileSync(join(repo, 'electron-builder.yml'), 'utf8')) as {
    files: string[];
    extraResources: { from: string; to: string }[];
    asarUnpack: string[];
    linux: { target: string[]; maintainer: string };
    mac: { target: string };
    win: { target: string };
  };
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    homepage?: string;
    author?: { name: string; email: string };
    main: string;
    scripts: Record<string, string>;
  };

  it('has the metadata deb needs (homepage, author, maintainer)', () => {
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.author?.email).toContain('@');
    expect(config.linux.maintainer).toContain('@');
  });

  it('targets AppImage and deb, dmg and nsis', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
  });

  it('ships the built app, the migrations and the staged trainer where engine-env.ts looks for it', () => {
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'drizzle/**', 'package.json']));
    expect(manifest.main).toBe('out/main/index.js');
    const trainer = config.extraResources.find((entry) => entry.to === 'trainer');
    expect(trainer?.from).toBe('build/trainer');
    expect(trainerResource('/r', 'linux')).toBe(join('/r', trainer!.to, 'npllm-train'));
    expect(manifest.scripts['package']).toContain('stage-trainer');
    expect(readFileSync(join(repo, 'scripts', 'stage-trainer.mjs'), 'utf8')).toContain("join(root, 'build', 'trainer'");
  });

  it('keeps native modules and wasm out of the asar archive', () => {
    for (const native of ['node-llama-cpp', '@node-llama-cpp', 'onnxruntime-node', '@electric-sql/pglite']) {
      expect(config.asarUnpack).toContain(`node_modules/${native}/**`);
    }
  });
});
