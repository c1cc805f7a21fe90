// After the whole test run, stops the one-node Slurm cluster if a Slurm suite started it (see
// requireSlurm in ./cluster.ts); a cluster that was already up before the run is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext { slurmStartedMark: string }
}

const UP = join(import.meta.dirname, '../../scripts/slurm-local.sh');

export default function setup(project: TestProject) {
  const mark = join(tmpdir(), `massflow-test-slurm-started-${process.pid}`);
  rmSync(mark, { force: true });
  project.provide('slurmStartedMark', mark);
  return () => {
    if (!existsSync(mark)) return;
    rmSync(mark, { force: true });
    const down = spawnSync(UP, ['down'], { encoding: 'utf8', timeout: 120_000 });
    if (down.status !== 0) console.error(`stopping the Slurm cluster the tests started failed (\`${UP} down\`, exit ${down.status}): ${down.stderr}`);
  };
}
