// The server's validation limits (mlflow/utils/validation.py) and a chunker that keeps every
// log-batch request inside them, so a large run never gets a 400 for its size.
import type { KeyValue, WireMetric } from './types.js';

export const LIMITS = Object.freeze({
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  /** The server rejects log-batch bodies above 1e6 bytes; keep a margin for the envelope. */
  batchBytes: 900_000,
  keyLength: 250,
  /** Param values over 6000 chars are cut by the server's store, or rejected when it runs with MLFLOW_TRUNCATE_LONG_VALUES=false. */
  paramValueLength: 6000,
  /** Recent servers accept 8000; the proto only promises 5000, so stay portable. */
  tagValueLength: 5000,
  experimentNameLength: 500,
  /** log-inputs: datasets per request and field lengths (validation.py). */
  datasetsPerRequest: 1000,
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceLength: 65_535,
  datasetProfileLength: 16_777_215,
  inputTagValueLength: 500,
});

/**
 * MLflow's key rule on non-Windows servers: letters, digits, `_ - . / : ` and space, and the key must
 * be a normalized relative path (no `..`, no leading `/`, no `//`, not `.`). Returns a reason or
 * undefined.
 */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'is empty';
  if (key.length > LIMITS.keyLength) return `is ${key.length} characters long (at most ${LIMITS.keyLength})`;
  if (!/^[/\p{L}\p{N}_.\- :]*$/u.test(key)) return 'may only contain letters, digits, "_", "-", ".", "/", ":" and spaces';
  const segments = key.split('/');
  if (key.startsWith('/') || key.endsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'must be a normalized relative path (no leading or trailing "/", no "//", "." or ".." segments)';
  }
  return undefined;
}

/** Cuts a value to `max` characters (by UTF-16 code units, as the server's Python `len` on BMP text). */
export function truncate(value: string, max: number): { value: string; truncated: boolean } {
  if (value.length <= max) return { value, truncated: false };
  // Do not split a surrogate pair.
  let end = max;
  const c = value.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  return { value: value.slice(0, end), truncated: true };
}

export interface BatchContent {
  readonly metrics: readonly WireMetric[];
  readonly params: readonly KeyValue[];
  readonly tags: readonly KeyValue[];
}

const jsonBytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x));

/**
 * Splits metrics, params and tags into log-batch requests within every server limit (counts per
 * kind, entities in total, body bytes). Params with one key must not share a request (the server
 * rejects duplicates in one batch); callers pass unique params.
 */
export function chunkBatch(content: BatchContent): BatchContent[] {
  const out: BatchContent[] = [];
  let metrics: WireMetric[] = [];
  let params: KeyValue[] = [];
  let tags: KeyValue[] = [];
  let bytes = 64;
  const flush = (): void => {
    if (metrics.length + params.length + tags.length === 0) return;
    out.push({ metrics, params, tags });
    metrics = [];
    params = [];
    tags = [];
    bytes = 64;
  };
  const room = (kind: 'm' | 'p' | 't', size: number): boolean => {
    const total = metrics.length + params.length + tags.length;
    if (total + 1 > LIMITS.entitiesPerBatch) return false;
    if (bytes + size > LIMITS.batchBytes) return false;
    if (kind === 'm') return metrics.length < LIMITS.metricsPerBatch;
    if (kind === 'p') return params.length < LIMITS.paramsPerBatch;
    return tags.length < LIMITS.tagsPerBatch;
  };
  for (const p of content.params) {
    const size = jsonBytes(p) + 1;
    if (!room('p', size)) flush();
    params.push(p);
    bytes += size;
  }
  for (const t of content.tags) {
    const size = jsonBytes(t) + 1;
    if (!room('t', size)) flush();
    tags.push(t);
    bytes += size;
  }
  for (const m of content.metrics) {
    // Metric entries are small and regular; an estimate avoids stringifying each one.
    const size = 96 + m.key.length * 2;
    if (!room('m', size)) flush();
    metrics.push(m);
    bytes += size;
  }
  flush();
  return out;
}
