import { defineConfig } from 'vitest/config';

/**
 * Naming tells what a test needs: `*.test.ts` is a fast unit test, `*.db.test.ts` talks to a real
 * PGlite (or a real server over the wire), `*.model.test.ts` runs a real model (the tiny SmolLM2 for
 * mechanics, the default coder-1.5b where answers are judged; `npm run fetch-models`). Renderer tests run in jsdom.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['{shared,electron,bench,scripts,eslint-rules}/**/*.test.ts'],
          // A hang guard, not a speed check: tests bound their work (tokens, steps, windows), and a
          // busy 2-core machine may take many times longer than an idle one to do it.
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
          // Model- and database-backed tests each hold hundreds of MB; two cores run two files at once at most.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The hardening suite (npm run test:hardening, HARDENING.md): hostile and malformed input
          // over the CLI, HTTP and IPC, kills at random points, 50 concurrent clients, planted
          // secrets. Real processes, PGlite and the tiny model; one file at a time, as its kill and
          // concurrency tests load both cores.
          name: 'hardening',
          environment: 'node',
          include: ['hardening/**/*.test.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'renderer',
          environment: 'jsdom',
          // Its own group: projects with different worker limits may not share one.
          sequence: { groupOrder: 1 },
          include: ['renderer/**/*.test.{ts,tsx}'],
          setupFiles: ['renderer/src/test/setup.ts'],
        },
      },
    ],
  },
});
