// The executor adapter: runs one stage somewhere (a local child process, a Slurm job) and reports
// what the stage says while it runs.
import { fileURLToPath } from 'node:url';
import type { StageId } from '../core/brand.js';
import type { Resources, StageImpl } from '../pipeline/model.js';
import type { SlurmOptions } from '../pipeline/schema.js';
import { EVENTS_FORMAT_VERSION } from './channel/events-format.js';
import type { Failure, StageUsage } from '../core/run-events.js';

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
  /** After SIGTERM to the stage's process group, how long before SIGKILL. */
  stopGraceMs: number;
  /** The JSON-lines file a `cmd:` stage may append messages to (MASSFLOW_EVENTS); the runner follows it. */
  eventsFile?: string | undefined;
  /** GPU devices granted to the stage when massflow manages GPUs (empty: none); undefined when it does not. */
  devices?: string[] | undefined;
  /** The stage's fingerprint digest: names exactly this piece of work across runs (a batch executor re-attaches by it). */
  fingerprint?: string;
}

/** A stage that a stage waits for, with the batch job producing it while that job is still under way. */
export interface UpstreamJob { id: StageId; jobId: string | undefined }

export interface StageReporter {
  log(line: string): void;
  metric(key: string, value: number, step: number | undefined, timestamp: number): void;
  artifact(path: string, name: string | undefined): void;
  progress(done: number, total: number): void;
  /** Something about the stage's reporting went wrong (a bad events line): said, never fatal. */
  warn(message: string): void;
  /** The stage runs as this process group on this host (local executors): recorded so a later run can stop what a dead runner left. */
  processGroup?(pgid: number): void;
  /** Masks known secret values (the tracking credentials) in a line of the stage's output. */
  redact?(text: string): string;
  /** The stage was handed to a batch scheduler as this job (pipelined executors): dependents may now be submitted. */
  submitted?(jobId: string): void;
}

/** `usage`: what the stage's processes used, where the executor measures it (the local one does). */
export type ExecResult = { ok: true; usage?: StageUsage | undefined } | { ok: false; failure: Failure; jobId?: string; usage?: StageUsage | undefined };

export interface Executor {
  readonly name: string;
  /**
   * True when a scheduler of the executor's own orders the stages (Slurm dependencies): the runner
   * then hands a stage over as soon as every stage it needs has been submitted, passing those jobs'
   * ids as `upstream`, and neither the job limit nor the local resource pool applies.
   */
  readonly pipelined?: boolean;
  run(job: StageJob, report: StageReporter, signal: AbortSignal, upstream?: readonly UpstreamJob[]): Promise<ExecResult>;
  /**
   * True when work for exactly this job (same fingerprint) is still under way or finished from an
   * earlier runner and `run` will adopt it instead of starting it again; the runner then leaves the
   * stage's outputs in place rather than clearing them.
   */
  adopts?(job: StageJob, upstream: readonly UpstreamJob[]): Promise<boolean>;
  /** Releases what the executor holds (pollers, connections). */
  close?(): Promise<void>;
}

/** Writes a line of the stage's output to its log file and reports it, known secrets masked first. */
export function stageLogLine(log: { write(text: string): unknown }, report: StageReporter): (line: string) => void {
  return (raw) => {
    const line = report.redact ? report.redact(raw) : raw;
    log.write(line + '\n');
    report.log(line);
  };
}

/** The Python helper shipped with massflow (`import massflow`), put on PYTHONPATH for `cmd:` stages. */
export const PYTHON_HELPER_DIR = fileURLToPath(new URL('../../python', import.meta.url));

/**
 * Environment every stage sees, whatever runs it. `inherited` is the environment it starts from
 * (the runner's, or the batch job's), whose PYTHONPATH the helper's directory is put in front of.
 */
export function stageEnv(job: StageJob, inherited: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const pythonPath = job.env['PYTHONPATH'] ?? inherited['PYTHONPATH'];
  return {
    ...(job.eventsFile ? { MASSFLOW_EVENTS: job.eventsFile, MASSFLOW_EVENTS_FORMAT: String(EVENTS_FORMAT_VERSION) } : {}),
    ...(job.devices ? { CUDA_VISIBLE_DEVICES: job.devices.join(',') } : {}),
    MASSFLOW_RUN_ID: job.runId,
    MASSFLOW_STAGE: job.id,
    MASSFLOW_PROJECT_DIR: job.projectDir,
    MASSFLOW_PARAMS: JSON.stringify(job.params),
    MASSFLOW_VARS: JSON.stringify(job.vars),
    MASSFLOW_OUTS: JSON.stringify(job.outs),
    MASSFLOW_BACKEND: job.backend,
    MASSFLOW_STOP_GRACE_MS: String(job.stopGraceMs),
    ...job.env,
    ...(job.impl.kind === 'cmd' ? { PYTHONPATH: pythonPath ? `${PYTHON_HELPER_DIR}:${pythonPath}` : PYTHON_HELPER_DIR } : {}),
  };
}
