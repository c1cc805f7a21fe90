// A sweep in MLflow: one parent run for the sweep, a child per trial, and under each trial the same
// layout a plain run gets (a run per stage, folds grouped under their stage, params, per-epoch
// metrics, logs and run.json as artifacts), because each trial's events go through the runner's own
// TrackingSink. All trials share one tracker (one outbox, runs/<sweep-id>/tracking), so each trial's
// sink prefixes its keys with the trial name. A stage a trial shared with another trial, or found
// cached, is logged under every trial that used it, tagged with where it came from: each trial is
// complete on its own and ablations compare side by side. Tracking never fails a sweep.
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import type { Fingerprint } from '../plan/fingerprint.js';
import type { EventSink, RunStatus } from '../core/run-events.js';
import { chooseTracking, openRunTracker } from '../run/tracking-setup.js';
import { checkedTracker, TrackingSink, runEndStatus, type CheckedTracker } from '../run/tracking-sink.js';
import type { Pipeline } from '../pipeline/model.js';
import { describeTrackingConfig, secretMasker, type Tracker, type TrackError, type TrackingSpec } from '../track/index.js';
import type { Objective } from './schema.js';
import type { SweepRecord } from './record.js';

const SWEEP = 'sweep';

export interface TrialTrack { name: string; /** The MLflow run name: the trial and its point. */ label?: string; runId: string; pipeline: Pipeline; fingerprints: ReadonlyMap<StageId, Fingerprint>; runDir: string }

export class SweepTracking {
  private readonly sinks = new Map<string, TrackingSink>();
  private readonly checked: CheckedTracker;

  constructor(
    private readonly tracker: Tracker,
    private readonly where: string,
    private readonly objectives: readonly Objective[],
    /** A call the tracker refused: the caller says so. */
    private readonly onRejected: (error: TrackError) => void,
    /** Masks the tracking secrets in the trials' stage output. */
    readonly redact: (text: string) => string = secretMasker(undefined),
  ) {
    this.checked = checkedTracker(tracker, onRejected);
  }

  sweepStarted(name: string, tags: Record<string, string>) {
    this.checked.startRun(SWEEP, { name, tags });
  }

  /** The sink for one trial's run events; its run nests under the sweep's. */
  trialSink(t: TrialTrack, tags: Record<string, string>): EventSink {
    const sink = new TrackingSink({
      tracker: this.tracker, pipeline: t.pipeline, runDir: t.runDir, fingerprints: t.fingerprints,
      parentKey: SWEEP, rootKey: `trial:${t.name}`, rootName: t.label ?? t.name, keyPrefix: `${t.name}/`, onRejected: this.onRejected,
    });
    this.sinks.set(t.name, sink);
    return (e) => {
      sink.sink(e);
      if (e.type === 'run-start') this.checked.setTags(`trial:${t.name}`, { ...tags, 'massflow.trial': t.name });
    };
  }

  /** After the stage's end went through the trial's sink: say it ran in another trial, or came from the cache. */
  tagStage(trial: string, id: StageId, tags: Record<string, string>) {
    const sink = this.sinks.get(trial);
    if (sink) this.checked.setTags(sink.stageRunKey(id), tags);
  }

  /** An adaptive trial's intermediate value (what its pruner judged), on the trial's own run. */
  trialIntermediate(trial: string, metric: string, value: number, step: number) {
    this.checked.logMetric(`trial:${trial}`, `intermediate/${metric}`, value, step);
  }

  trialEnded(trial: string, status: RunStatus, values: readonly (number | null)[]) {
    this.objectives.forEach((o, i) => { const v = values[i]; if (v != null) this.checked.logMetric(`trial:${trial}`, o.metric, v); });
    this.checked.setTags(`trial:${trial}`, { 'massflow.trial_state': status });
    this.sinks.get(trial)?.end(status);
  }

  /**
   * The best trial (its value and params), or with several objectives the Pareto front: its trials'
   * names, and each one's values and params as a JSON tag (MLflow has no list of runs to hold it).
   */
  sweepEnded(status: RunStatus, result: Pick<SweepRecord, 'best' | 'front'>, pointOf: (trial: string) => Record<string, unknown>) {
    const { best, front } = result;
    const [objective] = this.objectives;
    if (best && objective) {
      const params = Object.fromEntries(Object.entries(pointOf(best.trial)).map(([k, v]) => [`massflow.best.${k}`, JSON.stringify(v)]));
      this.checked.setTags(SWEEP, { 'massflow.best_trial': best.trial, ...params });
      this.checked.logMetric(SWEEP, `best/${objective.metric}`, best.value);
    }
    if (front) {
      const each = front.map((f) => [`massflow.front.${f.trial}`, JSON.stringify({
        values: Object.fromEntries(this.objectives.map((o, i) => [o.metric, f.values[i]])), params: pointOf(f.trial),
      })]);
      this.checked.setTags(SWEEP, { 'massflow.front': front.map((f) => f.trial).join(' '), ...Object.fromEntries(each) });
      this.checked.logMetric(SWEEP, 'front_size', front.length);
    }
    this.checked.endRun(SWEEP, runEndStatus(status));
  }

  /** Flushes; the line says where the runs went. */
  async close(sweepId: string): Promise<string> {
    const s = await this.tracker.close({ flushTimeoutMs: 5000 });
    if (s.mode === 'offline') return `tracking: ${this.where}`;
    if (s.pending > 0) return `tracking: ${s.delivered} of ${s.recorded} records delivered to ${this.where}; ${s.pending} queued in runs/${sweepId}/tracking (\`massflow sync\` delivers them)`;
    return `tracking: ${s.recorded} records delivered to ${this.where}`;
  }
}

export interface OpenSweepTracking {
  projectDir: string;
  sweepId: string;
  runsDir: string;
  /** The experiment file's `tracking:` block, checked with the file. */
  spec: TrackingSpec | undefined;
  uri: string | undefined;
  experimentName: string;
  sourceName: string;
  objectives: readonly Objective[];
  onWarning: (m: string) => void;
}

/** Where the sweep is tracked (the same choice a run makes); problems in the settings are usage errors. */
export async function openSweepTracking(o: OpenSweepTracking): Promise<{ ok: true; tracking: SweepTracking | undefined } | { ok: false; problems: string[] }> {
  const choice = chooseTracking(o.projectDir, o.uri ? { uri: o.uri } : {}, o.spec);
  if (!choice.ok) return { ok: false, problems: choice.messages };
  const tracker = await openRunTracker({
    projectDir: o.projectDir, runId: o.sweepId, runDir: join(o.runsDir, o.sweepId), config: choice.config,
    experimentName: o.experimentName, sourceName: o.sourceName, onWarning: o.onWarning,
  });
  if (typeof tracker === 'string') {
    o.onWarning(`tracking disabled for this sweep: ${tracker}`);
    return { ok: true, tracking: undefined };
  }
  return { ok: true, tracking: new SweepTracking(tracker, describeTrackingConfig(choice.config), o.objectives, (e) => o.onWarning(e.message), secretMasker(choice.config)) };
}
