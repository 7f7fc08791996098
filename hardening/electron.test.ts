/**
 * The Electron checklist, read from the code with a mocked `electron` (the binary cannot run
 * here): a packaged app ignores ELECTRON_RENDERER_URL and loads its own `app://` page, that
 * protocol serves only the built renderer, every permission but clipboard writes is refused, the
 * window is isolated, and the packaging config flips the fuses.
 */
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { rendererFile } from '../electron/main/app-protocol.js';
import { fakeElectron, fakeProtocol, fakeSession, fetchedFiles, FakeBrowserWindow } from '../electron/main/test/electron-mock.js';
import { packageRoot } from '../electron/engine/base/paths.js';

vi.mock('electron', async () => (await import('../electron/main/test/electron-mock.js')).fakeElectron);

beforeAll(async () => {
  // As an attacker who can set the environment of a packaged app would.
  fakeElectron.app.isPackaged = true;
  process.env['ELECTRON_RENDERER_URL'] = 'https://evil.example/';
  // Electron sets it in a packaged app (the trainer ships there); Node does not have it.
  Object.defineProperty(process, 'resourcesPath', { value: '/opt/npllm/resources', configurable: true });
  await import('../electron/main/index.js');
  await fakeElectron.app.fireReady();
});

describe('Electron: the packaged app', () => {
  it('ignores ELECTRON_RENDERER_URL and loads app://npllm/index.html in an isolated, sandboxed window', () => {
    const window = FakeBrowserWindow.instances[0]!;
    expect(window.loaded).toEqual({ url: 'app://npllm/index.html' });
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
  });

  it('registers app:// as a privileged scheme before ready, and serves only files of the built renderer', async () => {
    expect(fakeProtocol.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    const handler = fakeProtocol.handlers.get('app')!;
    const served = await handler({ url: 'app://npllm/assets/index.js' });
    expect(served.status).toBe(200);
    expect(fetchedFiles.at(-1)).toMatch(/^file:\/\/.*\/renderer\/assets\/index\.js$/);
    const renderer = fileURLToPath(fetchedFiles.at(-1)!).replace(/[/\\]assets[/\\]index\.js$/, '');
    // Dot segments either resolve inside the folder (a file that is not there) or are refused; nothing outside is ever read.
    for (const url of [
      'app://npllm/../../../etc/passwd',
      'app://npllm/%2e%2e/%2e%2e/etc/passwd',
      'app://npllm/..%2f..%2fetc%2fpasswd',
      'app://npllm/..%5c..%5cetc%5cpasswd',
      'app://other/index.html',
      'app://npllm/a%00b',
      'app://npllm/%E0%A4%A',
    ]) {
      const fetched = fetchedFiles.length;
      const response = await handler({ url });
      if (response.status === 404) continue;
      expect(fetchedFiles.length, url).toBe(fetched + 1);
      expect(fileURLToPath(fetchedFiles.at(-1)!).startsWith(renderer + sep), url).toBe(true);
    }
    for (const url of ['app://npllm/..%2f..%2fetc%2fpasswd', 'app://other/index.html', 'app://npllm/a%00b', 'app://npllm/%E0%A4%A']) {
      expect((await handler({ url })).status, url).toBe(404);
    }
    expect(rendererFile('/opt/npllm/renderer', 'app://npllm/')).toBe(join('/opt/npllm/renderer', 'index.html'));
  });

  it('refuses every permission but clipboard writes, and those only to the app', () => {
    const webContents = FakeBrowserWindow.instances[0]!.webContents;
    const decide = (permission: string, requestingUrl: string) => {
      let granted: boolean | undefined;
      fakeSession.requestHandler!(webContents, permission, (value) => (granted = value), { requestingUrl });
      return granted;
    };
    for (const permission of ['media', 'geolocation', 'notifications', 'midi', 'openExternal', 'fullscreen', 'clipboard-read', 'hid', 'serial', 'usb']) {
      expect(decide(permission, 'app://npllm/index.html'), permission).toBe(false);
    }
    expect(decide('clipboard-sanitized-write', 'app://npllm/index.html')).toBe(true);
    expect(decide('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(fakeSession.checkHandler!(webContents, 'clipboard-sanitized-write', 'app://npllm')).toBe(true);
    expect(fakeSession.checkHandler!(webContents, 'media', 'app://npllm')).toBe(false);
  });

  it('keeps the window on the app: no popups, no navigation', () => {
    const { webContents } = FakeBrowserWindow.instances[0]!;
    expect(webContents.windowOpenHandler?.({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
  });

  it('flips the fuses in the electron-builder config', () => {
    const config = parse(readFileSync(join(packageRoot, 'electron-builder.yml'), 'utf8')) as { electronFuses: Record<string, boolean> };
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
