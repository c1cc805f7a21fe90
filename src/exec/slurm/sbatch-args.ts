// The sbatch command line of one stage: resources, the pipeline's and the stage's `slurm:` options,
// and the afterok dependencies on its upstream jobs. Pure, so every mapping is unit-tested.
import type { SlurmOptions } from '../../pipeline/schema.js';
import type { StageJob } from '../executor.js';
import type { JobId } from './commands.js';
import type { JobFiles } from './job-script.js';

const MIB = 1024 * 1024;

/** Stage options win over pipeline options; extra arguments of both are passed, the stage's last. */
export function mergeOptions(pipeline: SlurmOptions, stage: SlurmOptions): SlurmOptions {
  const pick = (k: 'partition' | 'account' | 'qos') => stage[k] ?? pipeline[k];
  const partition = pick('partition'), account = pick('account'), qos = pick('qos');
  return {
    ...(partition ? { partition } : {}),
    ...(account ? { account } : {}),
    ...(qos ? { qos } : {}),
    extraArgs: [...(pipeline.extraArgs ?? []), ...(stage.extraArgs ?? [])],
  };
}

export function sbatchArgs(job: StageJob, pipelineOptions: SlurmOptions, files: JobFiles, afterOk: readonly JobId[]): string[] {
  const o = mergeOptions(pipelineOptions, job.slurm);
  const r = job.resources;
  const args = [
    '--parsable',
    `--job-name=massflow:${job.id}`,
    `--chdir=${job.projectDir}`,
    `--output=${files.out}`,
    // A requeued job appends rather than truncating what the runner has already read.
    '--open-mode=append',
    `--cpus-per-task=${Math.max(1, Math.ceil(r.cpu))}`,
  ];
  if (r.memoryBytes > 0) args.push(`--mem=${Math.ceil(r.memoryBytes / MIB)}M`);
  if (r.gpu > 0) args.push(`--gres=gpu:${r.gpu}`);
  if (r.time) args.push(`--time=${r.time}`);
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  if (o.qos) args.push(`--qos=${o.qos}`);
  if (afterOk.length) {
    // Per job, because clusters rarely set kill_invalid_depend: a failed upstream then cancels
    // this job (and, in cascade, its own dependents) instead of leaving it pending for ever.
    args.push(`--dependency=afterok:${afterOk.join(':')}`, '--kill-on-invalid-dep=yes');
  }
  // Last, so that a user's extra argument overrides a default above (sbatch: the last one wins).
  args.push(...(o.extraArgs ?? []));
  args.push(files.script);
  return args;
}
