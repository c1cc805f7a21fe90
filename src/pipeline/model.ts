// The compiled pipeline: every stage instance with interpolated paths, resolved params and edges.
import type { Digest, StageId } from '../core/brand.js';
import type { Location } from './diagnostics.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import type { SlurmOptions, SlurmPipelineOptions } from './schema.js';
import type { RemoteSpec } from './remote-schema.js';

export type StageImpl =
  | { kind: 'ts'; module: string }
  | { kind: 'cmd'; argv: string[]; shell: boolean };

export interface Resources { cpu: number; memoryBytes: number; gpu: number; time: string | undefined }

export interface StageInstance {
  id: StageId;
  name: string;
  vars: Record<string, unknown>;
  impl: StageImpl;
  /** Project-relative, normalised posix paths. */
  deps: string[];
  outs: string[];
  metrics: string[];
  /** A text file among the outputs, printed when the run ends. */
  summary: string | undefined;
  /** The declared param keys, and the nested subset of params they select. */
  paramKeys: string[];
  params: Record<string, unknown>;
  needs: StageId[];
  env: Record<string, string>;
  resources: Resources;
  cache: boolean;
  slurm: SlurmOptions;
  /** After SIGTERM, how long the stage may take to stop before SIGKILL. */
  stopGraceMs: number;
  /** Output lines matching this pattern (named groups key, value, step) are metrics. */
  stdoutMetrics: string | undefined;
  /** Where the stage is declared, for diagnostics. */
  yamlPath: PathSegment[];
  location: Location | undefined;
  /**
   * Deps enter the fingerprint by their content, even those another stage produces, and the stage
   * is planned again once its upstream stages are done (DVC's meaning: a stage whose upstream reran
   * but wrote the same bytes does not rerun). Otherwise produced deps enter through the upstream
   * stage's fingerprint.
   */
  depsByContent?: boolean;
  /**
   * Which cached results may stand in for running the stage: any with its fingerprint (default), or
   * only its own last run with its outputs untouched in the workspace (DVC stages its run cache
   * leaves out: persistent or uncached outputs, no deps or no outs).
   */
  restore?: 'any' | 'last-run';
  /** Outputs left in place, not removed, when the stage runs (DVC `persist: true`). */
  persist?: string[];
  /** Never run, and what it depends on is not brought up to date through it (DVC `frozen: true`). */
  frozen?: boolean;
}

/**
 * Every path the stage writes, once each, sorted: a metrics file is an output, and may be listed
 * in both `outs` and `metrics`. The sort is the order locks are taken in, so two runs cannot
 * each hold a lock the other waits for.
 */
export const outputPaths = (s: Pick<StageInstance, 'outs' | 'metrics'>): string[] => [...new Set([...s.outs, ...s.metrics])].sort();

export interface HeadlineMetric {
  stage: StageId;
  metric?: string | undefined;
}

export interface Pipeline {
  name: string;
  description?: string | undefined;
  file: string;
  specText: string;
  specDigest: Digest;
  /** The parsed file, for locating what later checks find (e.g. a param a stage rejects). */
  source: YamlSource;
  params: Record<string, unknown>;
  /** Topologically ordered. */
  stages: StageInstance[];
  /** Stage id -> the ids it waits for (needs and deps produced by other stages). */
  upstream: Map<StageId, StageId[]>;
  tracking: { uri?: string | undefined; experiment?: string | undefined };
  /** Headline metrics for the top-level MLflow run: a stage's metric, or (no metric) all of them. */
  headline: HeadlineMetric[];
  executor: 'local' | 'slurm';
  /** The shared cache named by the spec (`--remote` and MASSFLOW_REMOTE take precedence). */
  remote?: RemoteSpec | undefined;
  slurm: SlurmPipelineOptions;
  /**
   * Files the stages read that a run writes first and puts back after: a DVC project's params.yaml
   * with `-p` overrides applied (its commands read the file themselves).
   */
  runFiles?: { path: string; text: string }[];
}
