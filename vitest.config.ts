import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops the Slurm cluster after the run when a Slurm suite had to start it, and the MLflow
    // server the tracking files share when one of them started it.
    globalSetup: ['test/slurm/global-setup.ts', 'test/track/helpers/shared-server.global.ts'],
    // Longest files first (test/durations.json), also on a fresh clone with no results cache.
    sequence: { sequencer: LongestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e suites spawn real processes and servers; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
