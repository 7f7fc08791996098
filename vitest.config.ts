import { defineConfig } from 'vitest/config';

/**
 * Naming tells what a test needs: `*.test.ts` is a fast unit test, `*.db.test.ts` talks to a real
 * PGlite (or a real server over the wire), `*.model.test.ts` runs the real SmolLM2 fixture
 * (`npm run fetch-models`). Renderer tests run in jsdom.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['{shared,electron,bench,scripts}/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Model- and database-backed tests each hold hundreds of MB; two cores run two files at once at most.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'renderer',
          environment: 'jsdom',
          // Its own group: projects with different worker limits may not share one.
          sequence: { groupOrder: 1 },
          include: ['renderer/**/*.test.{ts,tsx}'],
        },
      },
    ],
  },
});
