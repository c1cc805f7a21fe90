// Maps run events onto MLflow runs through the tracker: one run per pipeline run, a nested run per
// stage (per foreach instance, grouped under a run for the stage name), flattened params, metrics
// with steps, tags for git commit, fingerprint and cache outcome, and run.json and logs as artifacts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import { describeFailure } from '../exec/outcome.js';
import { logFileName } from '../exec/stage-runner.js';
import type { RunEvent } from '../report/events.js';
import type { Pipeline } from '../spec/model.js';
import type { Tracker, TrackerSummary } from '../track/index.js';
import type { Fingerprint } from '../plan/fingerprint.js';

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
  /** Prefixes this sink's stage and group keys: trials of a sweep share one tracker and its key space. */
  keyPrefix?: string | undefined;
}

export class TrackingSink {
  private readonly root: string;
  private readonly started = new Set<string>();
  private readonly stages: Map<StageId, Pipeline['stages'][number]>;

  constructor(private readonly o: TrackingSinkOptions) {
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
      this.o.tracker.startRun(group, { parentKey: this.root, name: s.name, tags: { 'massflow.stage': s.name } });
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
      this.o.tracker.startRun(key, { parentKey, name: id, tags: { 'massflow.stage': s?.name ?? id, ...(fp ? { 'massflow.fingerprint': fp.digest } : {}) } });
      if (s) this.o.tracker.logParams(key, { ...s.params, ...Object.fromEntries(Object.entries(s.vars).map(([k, v]) => [`vars.${k}`, v])) });
    }
    return key;
  }

  readonly sink = (e: RunEvent): void => {
    const t = this.o.tracker;
    switch (e.type) {
      case 'run-start':
        t.startRun(this.root, {
          ...(this.o.parentKey ? { parentKey: this.o.parentKey } : {}),
          name: this.o.rootName ?? `${e.pipeline} ${e.runId}`,
          tags: { 'massflow.run_id': e.runId, 'massflow.executor': e.executor },
        });
        t.logParams(this.root, { ...this.o.pipeline.params, ...(this.o.extraParams ?? {}) });
        return;
      case 'stage-start': {
        const key = this.ensureStage(e.id);
        if (e.devices) t.setTags(key, { 'massflow.devices': e.devices.length ? e.devices.join(',') : 'none' });
        return;
      }
      case 'stage-metric': t.logMetric(this.ensureStage(e.id), e.key, e.value, e.step, e.timestamp); return;
      case 'stage-artifact': t.logArtifact(this.ensureStage(e.id), e.path); return;
      case 'stage-end': {
        const key = this.ensureStage(e.id);
        const o = e.outcome;
        t.setTags(key, { 'massflow.cache': o.kind, ...(o.kind === 'failed' ? { 'massflow.failure': describeFailure(o.failure) } : {}) });
        const log = join(this.o.runDir, 'logs', logFileName(e.id));
        if ((o.kind === 'ran' || o.kind === 'failed') && existsSync(log)) t.logArtifact(key, log, `logs/${logFileName(e.id)}`);
        t.endRun(key, o.kind === 'failed' ? 'FAILED' : o.kind === 'cancelled' || o.kind === 'skipped' ? 'KILLED' : 'FINISHED');
        return;
      }
      case 'stage-log': case 'stage-progress': case 'stage-wait': case 'stage-warning': case 'run-interrupt': return;
      case 'run-end':
        for (const key of this.started) if (key.startsWith(`${this.o.keyPrefix ?? ''}group:`)) t.endRun(key, e.status === 'succeeded' ? 'FINISHED' : e.status === 'failed' ? 'FAILED' : 'KILLED');
        t.setTags(this.root, { 'massflow.status': e.status });
        return;
    }
  };

  /** After the run record is final: attach it and end the root run (the tracker stays open). */
  end(status: 'succeeded' | 'failed' | 'cancelled'): void {
    const t = this.o.tracker;
    const rec = join(this.o.runDir, 'run.json');
    if (existsSync(rec)) t.logArtifact(this.root, rec, 'run.json');
    t.endRun(this.root, status === 'succeeded' ? 'FINISHED' : status === 'failed' ? 'FAILED' : 'KILLED');
  }

  /** After the run record is final: end the root run, then flush and close the tracker. */
  async close(status: 'succeeded' | 'failed' | 'cancelled', flushTimeoutMs: number): Promise<TrackerSummary> {
    this.end(status);
    return this.o.tracker.close({ flushTimeoutMs });
  }
}
