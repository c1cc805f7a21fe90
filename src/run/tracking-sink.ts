// Maps run events onto MLflow runs through the tracker: one run per pipeline run, a nested run per
// stage (per foreach instance, grouped under a run for the stage name), flattened params, metrics
// with steps, tags for git commit, fingerprint and cache outcome, and run.json and logs as artifacts.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import { unhandled, type OutcomeKind, type RunEvent, type RunStatus, type StageUsage, type StoredOutput } from '../core/run-events.js';
import { logFileName } from '../project/layout.js';
import { describeFailure } from '../report/describe.js';
import type { Pipeline } from '../pipeline/model.js';
import type { EndStatus, Tracker, TrackerSummary, TrackError, TrackResult } from '../track/index.js';
import type { Fingerprint } from '../plan/fingerprint.js';
import { runNoteMarkdown, type RunNote } from './run-label.js';
import { sourceDatasets, stageDatasets } from './dataset-inputs.js';
import type { RunRecord } from '../record/run-record.js';
import { traceOf } from '../record/trace.js';
import { timelineSvg } from '../report/timeline.js';

/** The MLflow status a pipeline run, a trial or a sweep ends with. */
export function runEndStatus(s: RunStatus): EndStatus {
  switch (s) {
    case 'succeeded': return 'FINISHED';
    case 'failed': return 'FAILED';
    case 'cancelled': case 'pruned': return 'KILLED';
  }
}

/** A stage's: one that never got to run (skipped, cancelled) is KILLED; a cached one FINISHED. */
function stageEndStatus(k: OutcomeKind): EndStatus {
  switch (k) {
    case 'ran': case 'restored': case 'fresh': return 'FINISHED';
    case 'failed': return 'FAILED';
    case 'skipped': case 'cancelled': case 'pruned': return 'KILLED';
  }
}

/**
 * The pipeline's headline metrics as the top-level run logs them: each under its own name (a
 * stage-qualified `stage/name` where two stages share one), with the stage's last value.
 */
export function headlineValues(pipeline: Pipeline, last: ReadonlyMap<StageId, ReadonlyMap<string, number>>): [string, number][] {
  const picked: { stage: string; metric: string; value: number }[] = [];
  for (const h of pipeline.headline) {
    const values = last.get(h.stage);
    if (!values) continue;
    const stage = pipeline.stages.find((s) => s.id === h.stage)?.name ?? h.stage;
    if (h.metric === undefined) for (const [metric, value] of values) picked.push({ stage, metric, value });
    else if (values.has(h.metric)) picked.push({ stage, metric: h.metric, value: values.get(h.metric)! });
  }
  const count = new Map<string, number>();
  for (const p of picked) count.set(p.metric, (count.get(p.metric) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const p of picked) {
    const key = count.get(p.metric)! > 1 ? `${p.stage}/${p.metric}` : p.metric;
    if (!out.has(key)) out.set(key, p.value);
  }
  return [...out];
}

/**
 * A stage's resource use under MLflow's `system/` names, which its System metrics tab shows: wall
 * time, CPU time (children included), CPU utilisation (CPU over wall; above 100 with several cores
 * busy), and peak RSS.
 */
export function systemMetrics(durationMs: number, usage: StageUsage | undefined): [string, number][] {
  const out: [string, number][] = [['system/wall_time_seconds', durationMs / 1000]];
  if (!usage) return out;
  out.push(['system/cpu_time_seconds', usage.cpuMs / 1000]);
  if (durationMs > 0) out.push(['system/cpu_utilization_percentage', Math.round((usage.cpuMs / durationMs) * 1000) / 10]);
  if (usage.peakRssBytes > 0) out.push(['system/peak_rss_megabytes', Math.round((usage.peakRssBytes / 2 ** 20) * 10) / 10]);
  return out;
}

type Recording = Pick<Tracker, 'startRun' | 'logParams' | 'logMetric' | 'setTags' | 'logArtifact' | 'logInputs' | 'endRun'>;
export type CheckedTracker = { [K in keyof Recording]: (...args: Parameters<Recording[K]>) => void };

/** The tracker's recording calls with each result looked at: a call it refuses goes to onRejected. */
export function checkedTracker(tracker: Tracker, onRejected: (error: TrackError) => void): CheckedTracker {
  const check = (r: TrackResult) => { if (!r.ok) onRejected(r.error); };
  return {
    startRun: (...a) => check(tracker.startRun(...a)),
    logParams: (...a) => check(tracker.logParams(...a)),
    logMetric: (...a) => check(tracker.logMetric(...a)),
    setTags: (...a) => check(tracker.setTags(...a)),
    logArtifact: (...a) => check(tracker.logArtifact(...a)),
    logInputs: (...a) => check(tracker.logInputs(...a)),
    endRun: (...a) => check(tracker.endRun(...a)),
  };
}

export interface TrackingSinkOptions {
  tracker: Tracker;
  pipeline: Pipeline;
  runDir: string;
  fingerprints: ReadonlyMap<StageId, Fingerprint>;
  /** The parent key when this run is one trial of a sweep. */
  parentKey?: string | undefined;
  rootKey?: string | undefined;
  rootName?: string | undefined;
  extraParams?: Record<string, unknown> | undefined;
  /** What the run page's description says besides the pipeline's description and the headline. */
  note?: Omit<RunNote, 'headline' | 'description'> | undefined;
  /** Prefixes this sink's stage and group keys: trials of a sweep share one tracker and its key space. */
  keyPrefix?: string | undefined;
  /** A call the tracker refused (an invalid metric key, a param changing value): the caller says so. */
  onRejected: (error: TrackError) => void;
}

export class TrackingSink {
  private readonly root: string;
  private readonly t: CheckedTracker;
  private readonly started = new Set<string>();
  private readonly stages: Map<StageId, Pipeline['stages'][number]>;
  /** The last value of each stage's metrics, for the headline on the top-level run. */
  private readonly last = new Map<StageId, Map<string, number>>();
  /** Outputs of the stages that ended so far, by path: the digests of the data later stages read. */
  private readonly outputs = new Map<string, StoredOutput>();

  constructor(private readonly o: TrackingSinkOptions) {
    this.t = checkedTracker(o.tracker, o.onRejected);
    this.root = o.rootKey ?? 'root';
    this.stages = new Map(o.pipeline.stages.map((s) => [s.id, s] as const));
  }

  /** The tracker key of a stage's run, for callers adding tags of their own. */
  stageRunKey(id: StageId): string {
    return `${this.o.keyPrefix ?? ''}stage:${id}`;
  }

  private stageKey(id: StageId): string {
    const s = this.stages.get(id);
    if (!s || Object.keys(s.vars).length === 0) return this.stageRunKey(id);
    // Foreach instances nest under one run for the stage, so folds sit together in the UI.
    const group = `${this.o.keyPrefix ?? ''}group:${s.name}`;
    if (!this.started.has(group)) {
      this.started.add(group);
      this.t.startRun(group, { parentKey: this.root, name: s.name, tags: { 'massflow.stage': s.name } });
    }
    return this.stageRunKey(id);
  }

  private ensureStage(id: StageId): string {
    const key = this.stageKey(id);
    if (!this.started.has(key)) {
      this.started.add(key);
      const s = this.stages.get(id);
      const parentKey = s && Object.keys(s.vars).length ? `${this.o.keyPrefix ?? ''}group:${s.name}` : this.root;
      const fp = this.o.fingerprints.get(id);
      this.t.startRun(key, { parentKey, name: id, tags: { 'massflow.stage': s?.name ?? id, ...(fp ? { 'massflow.fingerprint': fp.digest } : {}) } });
      if (s) this.t.logParams(key, { ...s.params, ...Object.fromEntries(Object.entries(s.vars).map(([k, v]) => [`vars.${k}`, v])) });
      this.t.logInputs(key, stageDatasets(fp, this.outputs));
    }
    return key;
  }

  readonly sink = (e: RunEvent): void => {
    const t = this.t;
    switch (e.type) {
      case 'run-start':
        t.startRun(this.root, {
          ...(this.o.parentKey ? { parentKey: this.o.parentKey } : {}),
          name: this.o.rootName ?? `${e.pipeline} ${e.runId}`,
          tags: { 'massflow.run_id': e.runId, 'massflow.executor': e.executor },
        });
        t.logParams(this.root, { ...this.o.pipeline.params, ...(this.o.extraParams ?? {}) });
        t.logInputs(this.root, sourceDatasets(this.o.pipeline, this.o.fingerprints));
        return;
      case 'stage-start': {
        const key = this.ensureStage(e.id);
        if (e.devices) t.setTags(key, { 'massflow.devices': e.devices.length ? e.devices.join(',') : 'none' });
        return;
      }
      case 'stage-metric': {
        const key = this.ensureStage(e.id);
        t.logMetric(key, e.key, e.value, e.step, e.timestamp);
        const m = this.last.get(e.id) ?? new Map<string, number>();
        this.last.set(e.id, m.set(e.key, e.value));
        return;
      }
      case 'stage-artifact': t.logArtifact(this.ensureStage(e.id), e.path); return;
      case 'stage-end': {
        const key = this.ensureStage(e.id);
        const o = e.outcome;
        if (o.kind === 'ran' || o.kind === 'restored' || o.kind === 'fresh') for (const [path, stored] of Object.entries(o.outputs)) this.outputs.set(path, stored);
        t.setTags(key, {
          'massflow.cache': o.kind,
          ...(o.kind === 'failed' ? { 'massflow.failure': describeFailure(o.failure) } : {}),
          // A cached result: the run that computed it (its metrics are logged here too).
          ...((o.kind === 'fresh' || o.kind === 'restored') && o.fromRun !== undefined ? { 'massflow.from_run': o.fromRun } : {}),
        });
        if (o.kind === 'ran' || o.kind === 'failed') for (const [name, value] of systemMetrics(o.durationMs, o.usage)) t.logMetric(key, name, value, 0, e.at);
        const log = join(this.o.runDir, 'logs', logFileName(e.id));
        if ((o.kind === 'ran' || o.kind === 'failed') && existsSync(log)) t.logArtifact(key, log, `logs/${logFileName(e.id)}`);
        t.endRun(key, stageEndStatus(o.kind));
        return;
      }
      case 'stage-log': case 'stage-progress': case 'stage-wait': case 'stage-warning': case 'run-interrupt': return;
      case 'run-end':
        for (const key of this.started) if (key.startsWith(`${this.o.keyPrefix ?? ''}group:`)) t.endRun(key, runEndStatus(e.status));
        t.setTags(this.root, { 'massflow.status': e.status });
        return;
      default: return unhandled(e);
    }
  };

  /** runs/<id>/timeline.svg from the final record, as the root run's artifact; a drawing failure only warns. */
  private async logTimeline(): Promise<void> {
    const record = await readFile(join(this.o.runDir, 'run.json'), 'utf8').then((t) => JSON.parse(t) as RunRecord, () => undefined);
    if (!record) return;
    const svg = join(this.o.runDir, 'timeline.svg');
    try {
      await writeFile(svg, timelineSvg(traceOf(record)));
    } catch (e) {
      this.o.onRejected({ kind: 'missing-file', message: `the run's timeline could not be drawn: ${(e as Error).message}` });
      return;
    }
    this.t.logArtifact(this.root, svg, 'timeline.svg');
  }

  /** After the run record is final: attach it and end the root run (the tracker stays open). */
  end(status: RunStatus): void {
    const t = this.t;
    const headline = headlineValues(this.o.pipeline, this.last);
    for (const [key, value] of headline) t.logMetric(this.root, key, value);
    if (this.o.note) t.setTags(this.root, { 'mlflow.note.content': runNoteMarkdown({ ...this.o.note, description: this.o.pipeline.description, headline }) });
    const rec = join(this.o.runDir, 'run.json');
    if (existsSync(rec)) t.logArtifact(this.root, rec, 'run.json');
    t.endRun(this.root, runEndStatus(status));
  }

  /**
   * After the run record is final: draw the stages' timeline onto the top-level run (a pipeline
   * run's, not a sweep trial's), end the root run, then flush and close the tracker.
   */
  async close(status: RunStatus, flushTimeoutMs: number): Promise<TrackerSummary> {
    if (this.o.parentKey === undefined) await this.logTimeline();
    this.end(status);
    return this.o.tracker.close({ flushTimeoutMs });
  }
}
