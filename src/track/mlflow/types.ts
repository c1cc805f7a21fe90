// The MLflow REST messages this client uses (service.proto / mlflow_artifacts.proto), as the server
// sends them: unset fields are omitted, so everything optional is marked so, and unknown fields
// (MLflow 3 adds many) are ignored.

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface Experiment {
  readonly experiment_id: string;
  readonly name: string;
  readonly artifact_location?: string;
  readonly lifecycle_stage?: 'active' | 'deleted';
  readonly tags?: readonly KeyValue[];
}

export interface RunInfo {
  readonly run_id: string;
  readonly run_name?: string;
  readonly experiment_id: string;
  readonly status?: RunStatus;
  readonly start_time?: number;
  readonly end_time?: number;
  readonly artifact_uri?: string;
  readonly lifecycle_stage?: 'active' | 'deleted';
}

/** A metric point as sent or received: non-finite values travel as the strings below. */
export interface WireMetric {
  readonly key: string;
  readonly value: number | 'NaN' | 'Infinity' | '-Infinity';
  readonly timestamp: number;
  readonly step: number;
}

/** A metric point with its value decoded to a JS number. */
export interface Metric {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

export interface Run {
  readonly info: RunInfo;
  readonly data: {
    readonly metrics: readonly Metric[];
    readonly params: readonly KeyValue[];
    readonly tags: readonly KeyValue[];
  };
  /** The datasets the run read (`runs/log-inputs`); empty when none. */
  readonly inputs: { readonly dataset_inputs: readonly WireDatasetInput[] };
}

/** A dataset as log-inputs takes it and get-run returns it. */
export interface WireDataset {
  readonly name: string;
  readonly digest: string;
  readonly source_type: string;
  readonly source: string;
  readonly schema?: string;
  readonly profile?: string;
}

export interface WireDatasetInput {
  readonly tags?: readonly KeyValue[];
  readonly dataset: WireDataset;
}

export interface FileInfo {
  readonly path: string;
  readonly is_dir: boolean;
  readonly file_size?: number;
}

/** `JSON.stringify(NaN)` is `null`, which MLflow rejects; protobuf's JSON mapping wants these strings. */
export function encodeDouble(v: number): WireMetric['value'] {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

export function decodeDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  // int64/double may come as numeric strings through some proxies.
  return Number(v);
}

/** int64 fields: numbers from MLflow, numeric strings from some proxies. */
export function decodeInt(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
