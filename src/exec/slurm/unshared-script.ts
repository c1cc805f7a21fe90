// The batch script of a stage whose node does not see the project directory (slurm.shared_fs:
// false). It makes a working copy in node-local scratch, runs the stage there with massflow itself
// (which restores what the stage needs from the remote cache and pushes the result), sends its log
// to the remote under a run-scoped key, and removes the working copy. It writes nothing where the
// project lives, and holds no credential: the job gets those from the environment Slurm exports
// to it, or from the user's AWS files on the node.
import { basename } from 'node:path';
import { BACKEND_NAMES } from '../../ml/backend-describe.js';
import type { StageJob } from '../executor.js';
import { shq } from './job-script.js';
import type { UnsharedSetup } from './unshared-config.js';

/** The params a run was started with, so that the job computes the same fingerprints. */
export interface RunArgs { overrides: readonly string[]; profiles: readonly string[] }

/** Exit codes of the script itself, distinct from massflow's own (0, 1 stage failed, 2 usage, 130). */
export const UNSHARED_EXIT = { checkout: 95, scratch: 96 } as const;

/** Where a job's log goes on the remote, relative to its root: one key per run and stage. */
export const jobLogKey = (job: StageJob) => `logs/${job.runId}/${basename(job.logFile)}`;

/** `cpu@tfjs 4.22.0 cpu` -> `cpu`, the name `--backend` takes. */
const backendName = (label: string) => label.split('@')[0] ?? '';
const BACKENDS = new Set<string>(BACKEND_NAMES);

/** The `massflow run` the job runs in its working copy. */
export function nodeRunArgs(job: StageJob, setup: UnsharedSetup, run: RunArgs): string[] {
  return [
    'run', setup.spec, job.id,
    // The spec may say `executor: slurm`; in the job the stage runs right there.
    '--executor', 'local', '--tracking-uri', 'none',
    // The backend enters fingerprints: the node must use the one chosen here (its version must match too).
    ...(BACKENDS.has(backendName(job.backend)) ? ['--backend', backendName(job.backend)] : []),
    ...run.profiles.flatMap((p) => ['--profile', p]),
    ...run.overrides.flatMap((o) => ['-p', o]),
  ];
}

export function unsharedScript(job: StageJob, setup: UnsharedSetup, run: RunArgs): string {
  const stageLog = basename(job.logFile);
  const logArgs = [
    jobLogKey(job),
    ...(setup.remote.endpoint ? ['--endpoint', setup.remote.endpoint] : []),
    ...(setup.remote.region ? ['--region', setup.remote.region] : []),
  ];
  return [
    '#!/bin/bash',
    `# massflow stage ${job.id} of run ${job.runId}, in a working copy of its own (slurm.shared_fs: false).`,
    `export MASSFLOW_REMOTE=${shq(setup.remote.url)}`,
    // Its result must reach the remote whatever the spec's push mode: nothing else carries it back.
    'export MASSFLOW_REMOTE_PUSH=auto',
    `massflow_cli() { ${setup.massflow} "$@"; }`,
    'scratch=$(mktemp -d "${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/massflow-job.XXXXXX") || exit ' + UNSHARED_EXIT.scratch,
    'trap \'cd / && rm -rf "$scratch"\' EXIT',
    '(',
    '  echo "massflow: job ${SLURM_JOB_ID:-?} on $(hostname), working copy in $scratch/work"',
    `  mkdir "$scratch/work" && cd "$scratch/work" || exit ${UNSHARED_EXIT.scratch}`,
    `  { ${setup.checkout}\n  } || { echo "massflow: making the working copy failed (slurm.checkout)"; exit ${UNSHARED_EXIT.checkout}; }`,
    `  cd ./${shq(setup.projectPath)} || { echo "massflow: the working copy has no ${setup.projectPath.replace(/["$`\\]/g, '\\$&')}"; exit ${UNSHARED_EXIT.checkout}; }`,
    `  massflow_cli ${nodeRunArgs(job, setup, run).map(shq).join(' ')}`,
    '  code=$?',
    // The stage's own output as a local run logs it; the working copy holds this one run only.
    `  for f in runs/*/logs/${shq(stageLog)}; do [ -f "$f" ] && { echo "massflow: the stage's log:"; cat "$f"; }; done`,
    '  exit $code',
    ') >"$scratch/job.log" 2>&1 </dev/null',
    'code=$?',
    `massflow_cli job-log ${logArgs.map(shq).join(' ')} "$scratch/job.log" </dev/null`,
    'exit $code',
    '',
  ].join('\n');
}
