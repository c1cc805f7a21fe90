import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops the Slurm cluster after the run when a Slurm suite had to start it.
    globalSetup: ['test/slurm/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites spawn real processes and servers; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
