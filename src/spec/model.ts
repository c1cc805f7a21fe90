// The compiled pipeline: every stage instance with interpolated paths, resolved params and edges.
import type { Digest, StageId } from '../core/brand.js';
import type { Location } from './diagnostics.js';
import type { PathSegment } from './yaml-source.js';
import type { SlurmOptions } from './schema.js';

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
}

export interface Pipeline {
  name: string;
  file: string;
  specText: string;
  specDigest: Digest;
  params: Record<string, unknown>;
  /** Topologically ordered. */
  stages: StageInstance[];
  /** Stage id -> the ids it waits for (needs and deps produced by other stages). */
  upstream: Map<StageId, StageId[]>;
  tracking: { uri?: string | undefined; experiment?: string | undefined };
  executor: 'local' | 'slurm';
  slurm: SlurmOptions;
}
