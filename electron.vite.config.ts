/**
 * Desktop build: `electron-vite build` writes out/main (main process + the engine's utility
 * process entry), out/preload (CommonJS, as sandboxed windows require) and out/renderer (also
 * served to browsers by `npllm serve`).
 */
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const root = import.meta.dirname;

/**
 * The UI needs nothing but its own files and same-origin API calls. Added at build time only,
 * because the dev server's React refresh relies on an inline script.
 */
function contentSecurityPolicy(): Plugin {
  const policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
  return {
    name: 'npllm:content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  main: {
    build: {
      // Native addons (node-llama-cpp), PGlite's wasm and the database drivers load from
      // node_modules at run time rather than being bundled.
      externalizeDeps: true,
      rolldownOptions: { input: { index: resolve(root, 'electron/main/index.ts'), utility: resolve(root, 'electron/engine/utility.ts') } },
    },
  },
  preload: {
    build: { rolldownOptions: { input: { index: resolve(root, 'electron/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } } },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [react(), contentSecurityPolicy()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // Also served to browsers over the network by `npllm serve`.
      minify: true,
      rolldownOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
