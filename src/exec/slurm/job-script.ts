// The files of one stage's Slurm job, under `runs/<id>/slurm/`, and the batch script that runs the
// stage on the compute node. The script writes the exit-code marker last, so any runner (even one
// started after the job ended and Slurm forgot it) learns how the stage ended from the marker.
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stageEnv, type StageJob } from '../executor.js';
import { stageLoaderArgs } from '../stage-loaders.js';

export interface JobFiles {
  /** The batch script sbatch runs. */
  script: string;
  /** The StageJob, for a TS stage's child (`stage-child.js --job`). */
  job: string;
  /** Events a TS stage's child appends (JSONL); cmd stages have none. */
  events: string | undefined;
  /** The job's stdout and stderr, as Slurm writes them. */
  out: string;
  /** The wrapper's exit code, written once the stage has ended. */
  marker: string;
}

/** The stage child of this installation (the compute node must see the same paths). */
const childEntry = () => fileURLToPath(new URL('../stage-child.js', import.meta.url));

/** runs/<id>/logs/<stage>.log -> runs/<id>/slurm/<stage>.{sh,job.json,events.jsonl,out,exit} */
export function jobFiles(job: StageJob): JobFiles {
  const dir = join(dirname(dirname(job.logFile)), 'slurm');
  const stem = basename(job.logFile, '.log');
  return {
    script: join(dir, `${stem}.sh`),
    job: join(dir, `${stem}.job.json`),
    events: job.impl.kind === 'ts' ? join(dir, `${stem}.events.jsonl`) : undefined,
    out: join(dir, `${stem}.out`),
    marker: join(dir, `${stem}.exit`),
  };
}

/** A bash word that stands for exactly `s`. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The command line that runs the stage itself. */
export function stageCommand(job: StageJob, files: JobFiles, node: string): string {
  switch (job.impl.kind) {
    case 'ts':
      return [node, ...stageLoaderArgs(), '--enable-source-maps', childEntry(), '--job', files.job, '--events', files.events!].map(shq).join(' ');
    case 'cmd':
      // The same shapes the local executor runs: argv without a shell, or one string through sh.
      return job.impl.shell ? `/bin/sh -c ${shq(job.impl.argv.join(' '))}` : job.impl.argv.map(shq).join(' ');
  }
}

/** Exit codes of the wrapper itself, distinct from any the stage is likely to use. */
export const WRAPPER_EXIT = { noProjectDir: 97 } as const;

export function wrapperScript(job: StageJob, files: JobFiles, node: string = process.execPath): string {
  const env = Object.entries(stageEnv(job));
  const lines = [
    '#!/bin/bash',
    `# massflow stage ${job.id} of run ${job.runId}, submitted by the Slurm executor.`,
    `marker=${shq(files.marker)}`,
    // Written to a temporary name and renamed: a reader sees no marker or a whole one.
    'finish() { printf \'%s\\n\' "$1" >"$marker.tmp" && mv -f "$marker.tmp" "$marker"; exit "$1"; }',
    `cd ${shq(job.projectDir)} || { echo "massflow: cannot enter ${job.projectDir.replace(/["$`\\]/g, '\\$&')} on $(hostname): the project must be on a filesystem the compute nodes share" >&2; finish ${WRAPPER_EXIT.noProjectDir}; }`,
    // Names bash cannot export are left out; stage env keys are identifiers in practice.
    ...env.filter(([k]) => ENV_NAME.test(k)).map(([k, v]) => `export ${k}=${shq(v)}`),
    `${stageCommand(job, files, node)} </dev/null`,
    'finish $?',
    '',
  ];
  return lines.join('\n');
}
