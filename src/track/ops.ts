// The tracking operations a run appends to its outbox (runs/<run-id>/tracking/ops.jsonl), one JSON
// object per line. A closed union: the delivery code switches over it exhaustively.

/**
 * A run's local name inside one massflow run: `root` for the pipeline run, `stage:<id>` for a
 * training stage, `fold:<n>` (or `stage:<id>/fold:<n>`) for a fold. Each becomes one MLflow run.
 */
export type RunKey = string;

/** How an MLflow run ended. */
export type EndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export const isEndStatus = (x: unknown): x is EndStatus => x === 'FINISHED' || x === 'FAILED' || x === 'KILLED';

/** A metric value as stored: finite numbers as is, the rest as MLflow's JSON strings. */
export type StoredValue = number | 'NaN' | 'Infinity' | '-Infinity';

interface Base {
  /** 1, 2, 3, ... in append order; the sync state acknowledges by sequence number. */
  readonly seq: number;
  /** Wall-clock ms when the op was recorded (start_time, end_time and metric timestamps). */
  readonly t: number;
  readonly key: RunKey;
}

/**
 * A dataset a run read, as MLflow's `runs/log-inputs` takes it. The server keeps one input per
 * (run, name, digest), so sending one twice is harmless.
 */
export interface DatasetInput {
  readonly name: string;
  /** At most 36 characters (the server's limit); massflow sends a prefix of the content hash. */
  readonly digest: string;
  /** MLflow's source type, e.g. `local`. */
  readonly sourceType: string;
  /** JSON the UI shows as the source, e.g. `{"uri":"file:///project/data/cat.fits"}`. */
  readonly source: string;
  /** Shown as the input's context (`mlflow.data.context`), e.g. `source` or `input`. */
  readonly context: string;
  /** Optional JSON summary shown on the dataset's page (size, file count). */
  readonly profile?: string;
}

export type TrackingOp =
  | (Base & {
      readonly op: 'start';
      readonly name: string;
      /** The enclosing run; absent for a top-level run, which then names its experiment. */
      readonly parent?: RunKey;
      readonly experiment?: string;
      readonly tags: Readonly<Record<string, string>>;
    })
  | (Base & { readonly op: 'params'; readonly params: Readonly<Record<string, string>> })
  | (Base & { readonly op: 'tags'; readonly tags: Readonly<Record<string, string>> })
  /** One metric point; `t` is its timestamp. */
  | (Base & { readonly op: 'metric'; readonly name: string; readonly value: StoredValue; readonly step: number })
  | (Base & {
      readonly op: 'artifact';
      /** Absolute local path of a file or directory. */
      readonly local: string;
      /** Normalized path under the run's artifact root (a directory is uploaded below it). */
      readonly path: string;
    })
  | (Base & { readonly op: 'inputs'; readonly datasets: readonly DatasetInput[] })
  | (Base & { readonly op: 'end'; readonly status: EndStatus });

export type OpKind = TrackingOp['op'];

/** Distributes Omit over the union, so a draft op keeps its discriminant. */
export type OpDraft = TrackingOp extends infer T ? (T extends TrackingOp ? Omit<T, 'seq'> : never) : never;

export function encodeValue(v: number): StoredValue {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

export function decodeValue(v: StoredValue): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}

/** Checks one parsed outbox line; a corrupt line is reported, not guessed at. */
export function isTrackingOp(x: unknown): x is TrackingOp {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  if (typeof o.seq !== 'number' || typeof o.t !== 'number' || typeof o.key !== 'string') return false;
  switch (o.op) {
    case 'start': return typeof o.name === 'string' && typeof o.tags === 'object' && o.tags !== null;
    case 'params': return typeof o.params === 'object' && o.params !== null;
    case 'tags': return typeof o.tags === 'object' && o.tags !== null;
    case 'metric': return typeof o.name === 'string' && (typeof o.value === 'number' || typeof o.value === 'string') && typeof o.step === 'number';
    case 'artifact': return typeof o.local === 'string' && typeof o.path === 'string';
    case 'inputs': return Array.isArray(o.datasets) && o.datasets.every(isDatasetInput);
    case 'end': return isEndStatus(o.status);
    default: return false;
  }
}

function isDatasetInput(x: unknown): x is DatasetInput {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return ['name', 'digest', 'sourceType', 'source', 'context'].every((k) => typeof d[k] === 'string')
    && (d.profile === undefined || typeof d.profile === 'string');
}
