import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the longest tests (the fuzzer, the CLI runs, the login rate limit) take 10–40 s on a busy two-core machine; a slower CI machine must not fail them on time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every core: vitest's default leaves one to itself, which on a two-core machine runs the files one by one.
    maxWorkers: availableParallelism(),
    // A worker runs file after file without loading fastify, drizzle and the app again for each (~1 s a file).
    // Each file still opens its own database; what modules keep between files is caches only.
    isolate: false,
    // The demo is seeded once per run into templates that the tests copy (test/demo-template.ts).
    globalSetup: ['test/global-setup.ts'],
  },
});
