// One sqlite MLflow server for the whole test run, shared by the files that only log to it and read
// back their own experiments (sharedTestServer in ./server.ts): a server start costs seconds of CPU
// on the two-core CI machine. The first file that asks starts it; this stops it after the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { mlflowDown } from '../../../src/track/index.js';

declare module 'vitest' {
  export interface ProvidedContext { mlflowSharedDir: string }
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'massflow-mlflow-shared-'));
  project.provide('mlflowSharedDir', dir);
  return async () => {
    const down = await mlflowDown(dir);
    if (!down.ok) console.error(`stopping the shared MLflow test server failed: ${down.error.message}`);
    rmSync(dir, { recursive: true, force: true });
  };
}
