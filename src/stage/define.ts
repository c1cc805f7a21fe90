// The stage contract: what a TS stage module default-exports and what its `run` receives.
// A stage runs in its own child process; everything on `ctx` is forwarded to the runner over IPC.
import type { Static, TSchema } from '@sinclair/typebox';

export interface StageContext<P = Record<string, unknown>> {
  /** The declared params of this stage, resolved and validated against the stage's schema. */
  readonly params: P;
  /** The foreach variables of this instance (`{ fold: 3 }`), empty for a plain stage. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Absolute paths of the declared deps, in declaration order. */
  readonly deps: readonly string[];
  /** Absolute paths of the declared outs, in declaration order; the runner removes them before the stage starts. */
  readonly outs: readonly string[];
  /** The first declared out: the directory (or file) this stage is expected to write. */
  readonly outDir: string;
  /** Absolute paths of the declared metrics files. */
  readonly metricsFiles: readonly string[];
  readonly projectDir: string;
  readonly stageId: string;
  readonly runId: string;
  /** The tensor backend the runner selected (`MASSFLOW_BACKEND`), part of the fingerprint. */
  readonly backend: string;
  /** A line for the stage's log (runs/<id>/logs/<stage>.log) and the live view. */
  log(...parts: unknown[]): void;
  /** A metric point; `step` is the epoch or iteration, omitted for a summary value. */
  metric(key: string, value: number, step?: number): void;
  /** Register a file produced by the stage as an artifact of the run. */
  artifact(path: string, name?: string): void;
  /** Progress for the live view. */
  progress(done: number, total: number): void;
  /** Aborted when the run is cancelled (Ctrl-C) or the stage must stop. */
  readonly signal: AbortSignal;
}

export interface StageDefinition<S extends TSchema = TSchema> {
  readonly kind: 'massflow.stage';
  readonly description?: string;
  /** TypeBox schema for the params this stage reads; checked before `run` is called. */
  readonly params?: S;
  run(ctx: StageContext<Static<S>>): Promise<void> | void;
}

export function defineStage<S extends TSchema>(def: Omit<StageDefinition<S>, 'kind'>): StageDefinition<S> {
  return { kind: 'massflow.stage', ...def };
}

export function isStageDefinition(x: unknown): x is StageDefinition {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'massflow.stage'
    && typeof (x as { run?: unknown }).run === 'function';
}
