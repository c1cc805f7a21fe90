// The executor adapter: runs one stage somewhere (a local child process, a Slurm job) and reports
// what the stage says while it runs.
import type { StageId } from '../core/brand.js';
import type { Resources, StageImpl } from '../spec/model.js';
import type { SlurmOptions } from '../spec/schema.js';
import type { Failure } from './outcome.js';

export interface StageJob {
  id: StageId;
  runId: string;
  projectDir: string;
  impl: StageImpl;
  params: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** Absolute paths. */
  deps: string[];
  outs: string[];
  metrics: string[];
  env: Record<string, string>;
  resources: Resources;
  slurm: SlurmOptions;
  backend: string;
  logFile: string;
}

export interface StageReporter {
  log(line: string): void;
  metric(key: string, value: number, step: number | undefined, timestamp: number): void;
  artifact(path: string, name: string | undefined): void;
  progress(done: number, total: number): void;
}

export type ExecResult = { ok: true } | { ok: false; failure: Failure; jobId?: string };

export interface Executor {
  readonly name: string;
  run(job: StageJob, report: StageReporter, signal: AbortSignal): Promise<ExecResult>;
  /** Releases what the executor holds (pollers, connections). */
  close?(): Promise<void>;
}

/** Environment every stage sees, whatever runs it. */
export function stageEnv(job: StageJob): Record<string, string> {
  return {
    MASSFLOW_RUN_ID: job.runId,
    MASSFLOW_STAGE: job.id,
    MASSFLOW_PROJECT_DIR: job.projectDir,
    MASSFLOW_PARAMS: JSON.stringify(job.params),
    MASSFLOW_VARS: JSON.stringify(job.vars),
    MASSFLOW_OUTS: JSON.stringify(job.outs),
    MASSFLOW_BACKEND: job.backend,
    ...job.env,
  };
}
