// A sweep in MLflow: one parent run for the sweep, a child per trial (all its params, so trials and
// ablations compare side by side in the UI; the objective as a metric), and a grandchild per stage
// of the trial that reported metrics (each fold, each training stage) with its curves. A stage a
// trial shared with another, or found cached, is logged under every trial that used it: each trial
// is complete on its own. Tracking never fails a sweep: problems become warnings.
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import type { MetricPoint } from '../exec/metrics-file.js';
import type { RunStatus } from '../report/events.js';
import { describeTrackingConfig, openTracker, resolveTrackingConfig, type Tracker, type TrackerSummary, type TrackingConfig } from '../track/index.js';
import type { Objective } from './schema.js';

export type StageCacheTag = 'ran' | 'shared' | 'cached' | 'failed' | 'skipped' | 'cancelled';

export interface TimedPoint extends MetricPoint { timestamp: number }

const SWEEP = 'sweep';
const trialKey = (trial: string) => `trial:${trial}`;
const stageKey = (trial: string, id: StageId) => `stage:${trial}:${id}`;
const endStatus = (s: RunStatus) => (s === 'succeeded' ? 'FINISHED' : s === 'failed' ? 'FAILED' : 'KILLED');

export class SweepTracking {
  private readonly warnings = new Set<string>();

  constructor(private readonly tracker: Tracker, private readonly config: TrackingConfig, private readonly objective: Objective | undefined) {}

  private note(r: { ok: boolean; error?: { message: string } }) {
    if (!r.ok && r.error) this.warnings.add(r.error.message);
  }

  sweepStarted(name: string, tags: Record<string, string>) {
    this.note(this.tracker.startRun(SWEEP, { name, tags }));
  }

  trialStarted(trial: string, runId: string, params: Record<string, unknown>, tags: Record<string, string>) {
    const key = trialKey(trial);
    this.note(this.tracker.startRun(key, { parentKey: SWEEP, name: trial, tags: { ...tags, 'massflow.run_id': runId, 'massflow.trial': trial } }));
    this.note(this.tracker.logParams(key, params));
  }

  stageSettled(trial: string, id: StageId, fingerprint: string, cache: StageCacheTag, points: readonly TimedPoint[]) {
    if (points.length === 0) return;
    const key = stageKey(trial, id);
    this.note(this.tracker.startRun(key, { parentKey: trialKey(trial), name: id, tags: { 'massflow.fingerprint': fingerprint, 'massflow.cache': cache, 'massflow.stage': id } }));
    for (const p of points) this.note(this.tracker.logMetric(key, p.key, p.value, p.step ?? 0, Math.round(p.timestamp)));
    this.note(this.tracker.endRun(key, cache === 'failed' ? 'FAILED' : cache === 'cancelled' ? 'KILLED' : 'FINISHED'));
  }

  trialEnded(trial: string, status: RunStatus, objective: number | null) {
    const key = trialKey(trial);
    if (this.objective && objective !== null) this.note(this.tracker.logMetric(key, this.objective.metric, objective));
    this.note(this.tracker.endRun(key, endStatus(status)));
  }

  sweepEnded(status: RunStatus, best: { trial: string; value: number } | null) {
    if (best && this.objective) {
      this.note(this.tracker.setTags(SWEEP, { 'massflow.best_trial': best.trial }));
      this.note(this.tracker.logMetric(SWEEP, `best/${this.objective.metric}`, best.value));
    }
    this.note(this.tracker.endRun(SWEEP, endStatus(status)));
  }

  /** Flushes; the lines say where the runs went and any warning. */
  async close(): Promise<string[]> {
    const s: TrackerSummary = await this.tracker.close({ flushTimeoutMs: 5000 });
    const lines = [`tracking: ${describeTrackingConfig(this.config)}; ${s.recorded} ops recorded, ${s.delivered} delivered, ${s.pending} pending`];
    if (s.lastError) lines.push(`tracking: ${s.lastError}`);
    for (const w of this.warnings) lines.push(`tracking warning: ${w}`);
    return lines;
  }
}

export interface OpenSweepTracking {
  projectDir: string;
  sweepId: string;
  runsDir: string;
  spec: unknown;
  uri: string | undefined;
  experimentName: string;
  gitCommit: string | null;
  sourceName: string;
  objective: Objective | undefined;
}

/** The sweep's tracking, or the configuration problems (a usage error: nothing has run yet). */
export async function openSweepTracking(o: OpenSweepTracking): Promise<{ ok: true; tracking: SweepTracking } | { ok: false; problems: string[] }> {
  const cfg = resolveTrackingConfig({ flags: o.uri ? { uri: o.uri } : {}, spec: o.spec });
  if (!cfg.ok) return { ok: false, problems: cfg.error.map((i) => `${i.field}: ${i.message}`) };
  const t = await openTracker({
    projectDir: o.projectDir,
    runId: o.sweepId,
    runDir: join(o.runsDir, o.sweepId),
    config: cfg.value,
    experimentName: o.experimentName,
    ...(o.gitCommit ? { gitCommit: o.gitCommit } : {}),
    sourceName: o.sourceName,
  });
  if (!t.ok) return { ok: false, problems: [t.error.message] };
  return { ok: true, tracking: new SweepTracking(t.value, cfg.value, o.objective) };
}
