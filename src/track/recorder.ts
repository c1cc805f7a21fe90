// The recording half of the Tracker: every call the runner makes is validated as the server would
// (keys, values, params that cannot change, artifact paths), secrets are masked, and the op is
// appended to the run's outbox. Nothing here waits on the network; delivery reads the outbox.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LIMITS, keyProblem, truncate } from './mlflow/limits.js';
import { encodeValue, isEndStatus, type DatasetInput, type EndStatus, type OpDraft, type RunKey, type TrackingOp } from './ops.js';
import type { OutboxWriter } from './outbox.js';
import { flattenParams } from './params.js';
import { defaultArtifactPath, normalizeArtifactPath } from './paths.js';
import { err, ok, type Result } from '../core/result.js';
import { REDACTED, isSecretKey, type Redactor } from './secret.js';

export type TrackErrorKind =
  | 'invalid-key' | 'invalid-value' | 'unknown-run' | 'duplicate-run' | 'param-conflict'
  | 'bad-artifact-path' | 'missing-file' | 'closed' | 'outbox-failed';

export interface TrackError {
  readonly kind: TrackErrorKind;
  readonly message: string;
}

export type TrackResult = Result<void, TrackError>;

export interface RecorderOptions {
  readonly writer: OutboxWriter;
  readonly redactor: Redactor;
  /** Relative artifact paths are resolved against it. */
  readonly projectDir: string;
  /** The experiment a top-level run goes to. */
  readonly experiment: string;
  /** Tags every run gets (user, source, git commit, massflow run id). */
  readonly systemTags: Readonly<Record<string, string>>;
  /** Non-fatal notices; already masked. */
  readonly warn: (message: string) => void;
  /** Ops already in a continued outbox (the same run id opened again). */
  readonly existing: readonly { readonly op: TrackingOp }[];
}

interface LocalRun {
  readonly params: Map<string, string>;
}

const OK: TrackResult = ok(undefined);
const fail = (kind: TrackErrorKind, message: string): TrackResult => err({ kind, message });

export class Recorder {
  readonly #o: RecorderOptions;
  readonly #runs = new Map<RunKey, LocalRun>();
  readonly #validMetricKeys = new Set<string>();
  #closed = false;

  constructor(o: RecorderOptions) {
    this.#o = o;
    // A continued outbox: its runs exist already.
    for (const { op } of o.existing) if (op.op === 'start') this.#runs.set(op.key, { params: new Map() });
    for (const { op } of o.existing) if (op.op === 'params') for (const [k, v] of Object.entries(op.params)) this.#runs.get(op.key)?.params.set(k, v);
  }

  /** Every later call is refused with `closed`. */
  stopRecording(): void {
    this.#closed = true;
  }

  startRun(key: RunKey, o: { parentKey?: RunKey; name: string; tags?: Readonly<Record<string, string>> }): TrackResult {
    if (this.#closed) return fail('closed', 'the tracker is closed');
    if (typeof key !== 'string' || key === '' || key.length > 200) return fail('invalid-key', `run key ${JSON.stringify(key)} must be 1..200 characters`);
    if (this.#runs.has(key)) return fail('duplicate-run', `run ${key} was already started`);
    if (o.parentKey !== undefined && !this.#runs.has(o.parentKey)) return fail('unknown-run', `parent run ${o.parentKey} of ${key} was not started`);
    const tags = this.#cleanTags(o.tags ?? {}, `run ${key}`);
    if (!tags.ok) return tags;
    const name = truncate(this.#o.redactor.redact(o.name || key), LIMITS.keyLength).value;
    this.#runs.set(key, { params: new Map() });
    return this.#append({
      op: 'start', key, t: Date.now(), name,
      ...(o.parentKey !== undefined ? { parent: o.parentKey } : { experiment: this.#o.experiment }),
      tags: { ...this.#o.systemTags, ...tags.value },
    });
  }

  logParams(key: RunKey, params: Readonly<Record<string, unknown>>): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const flat = flattenParams(params);
    const out: Record<string, string> = {};
    const problems: string[] = [];
    for (const [k, raw] of Object.entries(flat)) {
      const bad = keyProblem(k);
      if (bad) {
        problems.push(`param key ${JSON.stringify(k)} ${bad}`);
        continue;
      }
      const value = this.#maskValue(k, raw, `param ${k} of ${key}`, LIMITS.paramValueLength);
      const prev = run.value.params.get(k);
      if (prev !== undefined) {
        if (prev !== value) problems.push(`param ${k} of ${key} is already ${JSON.stringify(prev)}; MLflow params cannot change value (use a metric or a tag)`);
        continue;
      }
      out[k] = value;
    }
    if (Object.keys(out).length > 0) {
      for (const [k, v] of Object.entries(out)) run.value.params.set(k, v);
      const r = this.#append({ op: 'params', key, t: Date.now(), params: out });
      if (!r.ok) return r;
    }
    if (problems.length > 0) return fail(problems.some((p) => p.includes('cannot change')) ? 'param-conflict' : 'invalid-key', problems.join('; '));
    return OK;
  }

  logMetric(key: RunKey, metricKey: string, value: number, step = 0, timestamp = Date.now()): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    if (!this.#validMetricKeys.has(metricKey)) {
      const bad = keyProblem(metricKey);
      if (bad) return fail('invalid-key', `metric key ${JSON.stringify(metricKey)} ${bad}`);
      // Training loops log the same few keys thousands of times: check each once.
      this.#validMetricKeys.add(metricKey);
    }
    if (typeof value !== 'number') return fail('invalid-value', `metric ${metricKey} of ${key}: value must be a number, got ${typeof value}`);
    if (!Number.isSafeInteger(step)) return fail('invalid-value', `metric ${metricKey} of ${key}: step must be an integer, got ${step}`);
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return fail('invalid-value', `metric ${metricKey} of ${key}: timestamp must be a non-negative integer (ms), got ${timestamp}`);
    return this.#append({ op: 'metric', key, t: timestamp, name: metricKey, value: encodeValue(value), step });
  }

  setTags(key: RunKey, tags: Readonly<Record<string, string>>): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const clean = this.#cleanTags(tags, `run ${key}`);
    if (!clean.ok) return clean;
    if (Object.keys(clean.value).length === 0) return OK;
    return this.#append({ op: 'tags', key, t: Date.now(), tags: clean.value });
  }

  logArtifact(key: RunKey, localPath: string, artifactPath?: string): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const local = isAbsolute(localPath) ? localPath : resolve(this.#o.projectDir, localPath);
    const path = normalizeArtifactPath(artifactPath ?? defaultArtifactPath(local));
    if (!path.ok) return fail('bad-artifact-path', `${key}: ${path.error}`);
    try {
      statSync(local);
    } catch {
      return fail('missing-file', `${key}: artifact ${local} does not exist`);
    }
    return this.#append({ op: 'artifact', key, t: Date.now(), local, path: path.value });
  }

  /** Datasets the run read; each is checked against the server's limits (name, digest, source lengths). */
  logInputs(key: RunKey, datasets: readonly DatasetInput[]): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    for (const d of datasets) {
      const bad = datasetProblem(d);
      if (bad) return fail('invalid-value', `dataset ${JSON.stringify(d.name)} of ${key}: ${bad}`);
    }
    if (datasets.length === 0) return OK;
    const masked = datasets.map((d) => ({ ...d, source: this.#o.redactor.redact(d.source) }));
    return this.#append({ op: 'inputs', key, t: Date.now(), datasets: masked });
  }

  endRun(key: RunKey, status: EndStatus): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    if (!isEndStatus(status)) return fail('invalid-value', `end status ${String(status)} is not FINISHED, FAILED or KILLED`);
    return this.#append({ op: 'end', key, t: Date.now(), status });
  }

  #run(key: RunKey): Result<LocalRun, TrackError> {
    if (this.#closed) return err({ kind: 'closed', message: 'the tracker is closed' });
    const run = this.#runs.get(key);
    return run ? ok(run) : err({ kind: 'unknown-run', message: `run ${key} was not started (call startRun first)` });
  }

  #append(draft: OpDraft): TrackResult {
    const { writer } = this.#o;
    if (writer.error) return fail('outbox-failed', `the tracking outbox cannot be written: ${writer.error.message}`);
    writer.append(draft);
    return OK;
  }

  #cleanTags(tags: Readonly<Record<string, string>>, where: string): Result<Record<string, string>, TrackError> {
    const out: Record<string, string> = {};
    for (const [k, raw] of Object.entries(tags)) {
      const bad = keyProblem(k);
      if (bad) return err({ kind: 'invalid-key', message: `${where}: tag key ${JSON.stringify(k)} ${bad}` });
      out[k] = this.#maskValue(k, String(raw), `tag ${k} of ${where}`, LIMITS.tagValueLength);
    }
    return ok(out);
  }

  /** A value as it may be recorded: a credential-named key masked, known secrets masked, cut to the server's limit. */
  #maskValue(key: string, raw: string, what: string, limit: number): string {
    let value = raw;
    if (isSecretKey(key)) {
      value = REDACTED;
      this.#o.warn(`${what} looks like a credential; its value is replaced by ${REDACTED}`);
    }
    const cut = truncate(this.#o.redactor.redact(value), limit);
    if (cut.truncated) this.#o.warn(`${what} is longer than ${limit} characters; it is cut to that length`);
    return cut.value;
  }
}

function datasetProblem(d: DatasetInput): string | undefined {
  const within = (what: string, v: string, max: number): string | undefined =>
    v.length === 0 ? `${what} is empty` : v.length > max ? `${what} is ${v.length} characters long (at most ${max})` : undefined;
  return within('the name', d.name, LIMITS.datasetNameLength)
    ?? within('the digest', d.digest, LIMITS.datasetDigestLength)
    ?? within('the source type', d.sourceType, LIMITS.keyLength)
    ?? within('the source', d.source, LIMITS.datasetSourceLength)
    ?? within('the context', d.context, LIMITS.inputTagValueLength)
    ?? (d.profile !== undefined ? within('the profile', d.profile, LIMITS.datasetProfileLength) : undefined);
}
