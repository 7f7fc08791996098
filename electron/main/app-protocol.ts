/**
 * The renderer is served from `app://npllm/`, not `file://`: a page on file:// shares its origin
 * with every other local file and, with the file-protocol fuse off, loses nothing it needs. The
 * handler serves only files inside the built renderer folder; IPC trusts only this origin (and the
 * dev server's, in development).
 */
import { normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { net, protocol } from 'electron';

export const appScheme = 'app';
export const appOrigin = `${appScheme}://npllm`;
export const appEntry = `${appOrigin}/index.html`;

/** Before the app is ready: `app://` behaves like https (standard, secure, fetch), so the renderer's CSP 'self' covers it. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** The file an `app://npllm/…` URL names inside `rendererDir`, or null for anything else (another host, `..`, a bad escape). */
export function rendererFile(rendererDir: string, url: string): string | null {
  let parsed: URL;
  let path: string;
  try {
    parsed = new URL(url);
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${appScheme}:` || parsed.host !== 'npllm' || path.includes('\0')) return null;
  const root = normalize(rendererDir);
  const file = normalize(`${root}${sep}${path === '/' ? 'index.html' : path}`);
  return file.startsWith(root + sep) ? file : null;
}

export function serveRenderer(rendererDir: string): void {
  protocol.handle(appScheme, (request) => {
    const file = rendererFile(rendererDir, request.url);
    if (!file) return new Response('Not found', { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });
}

/** Whether a page at `url` is the app itself: its own origin, or the dev server it was started with (never in a packaged app). */
export function isAppUrl(url: string, devServerUrl: string | undefined): boolean {
  try {
    const parsed = new URL(url);
    // Node's URL gives custom schemes an opaque origin ("null"): compare scheme and host instead.
    if (parsed.protocol === `${appScheme}:` && parsed.host === 'npllm') return true;
    return devServerUrl !== undefined && parsed.origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}
