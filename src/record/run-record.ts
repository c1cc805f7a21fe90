// runs/<id>/run.json: everything needed to trace and replay a run. It is rewritten atomically as
// stages end, and only ever names outputs that are already committed to the store.
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, RunId, StageId } from '../core/brand.js';
import { writeJsonAtomic } from '../cache/atomic.js';
import type { StoredOutput } from '../cache/store.js';
import type { Failure, OutcomeKind, SkipCause, StageUsage } from '../core/run-events.js';
import { unhandled, type RunEvent, type RunStatus } from '../core/run-events.js';
import { describeStageStart } from '../report/describe.js';
import type { GitInfo } from './git-info.js';

export const RUN_RECORD_FORMAT = 1;

export interface StageRecord {
  fingerprint: Digest;
  /** Digest of the fingerprint's code part (module graph or command): `massflow rerun` compares it. */
  code?: Digest | undefined;
  outcome: OutcomeKind | 'pending' | 'running';
  reason: string;
  startedAt: string | null;
  durationMs: number | null;
  outputs: Record<string, StoredOutput>;
  metrics: Record<string, number>;
  artifacts: { path: string; name: string | null }[];
  failure: Failure | null;
  skipped: SkipCause | null;
  log: string;
  /** GPU devices the stage ran with, when massflow managed GPUs ([]: none, so it ran on CPU). */
  devices?: string[] | undefined;
  /** The stage's last progress report (done of total). */
  progress?: { done: number; total: number } | undefined;
  /** What the stage reported that could not be used (bad lines of its events file). */
  warnings?: string[] | undefined;
  /** A cached stage: the run that computed it, whose record holds its logs (its metrics are copied here). */
  from?: string | undefined;
  /** When the stage ended (a cached stage has no start, only this). */
  endedAt?: string | undefined;
  /** What the stage's processes used (CPU time, peak RSS), where the executor measures it; wall time is durationMs. */
  usage?: StageUsage | undefined;
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  runId: RunId;
  kind: 'pipeline';
  status: RunStatus | 'running';
  pipeline: { name: string; file: string; specDigest: Digest };
  spec: string;
  argv: string[];
  targets: string[];
  overrides: string[];
  /** Profiles applied before the overrides (`--profile`). */
  profiles?: string[] | undefined;
  params: Record<string, unknown>;
  git: GitInfo;
  lockfileDigest: Digest | null;
  node: string;
  backend: { name: string; version: string };
  executor: string;
  host: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  stages: Record<string, StageRecord>;
  /** Parent sweep, when this run is one trial of an experiment. */
  sweep?: { id: string; trial: string } | undefined;
  /** The run this one replays (`massflow rerun`). */
  rerunOf?: RunId | undefined;
}

export const runDir = (runsDir: string, id: string) => join(runsDir, id);

export async function readRunRecord(runsDir: string, id: string): Promise<RunRecord | undefined> {
  try { return JSON.parse(await readFile(join(runDir(runsDir, id), 'run.json'), 'utf8')) as RunRecord; } catch { return undefined; }
}

/** One metric point as `metrics.jsonl` holds it. */
export interface RecordedPoint { stage: string; key: string; value: number; step: number | undefined; timestamp: number }

/**
 * Every metric point a run recorded (`runs/<id>/metrics.jsonl`), in the order they arrived; none
 * when the file is gone. A line that does not parse (the torn last line of a killed run) is skipped.
 */
export async function readRunPoints(runsDir: string, id: string): Promise<RecordedPoint[]> {
  let text: string;
  try { text = await readFile(join(runDir(runsDir, id), 'metrics.jsonl'), 'utf8'); } catch { return []; }
  const out: RecordedPoint[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const p = JSON.parse(line) as { stage: string; key: string; value: number; step: number | null; timestamp: number };
      if (typeof p.stage === 'string' && typeof p.key === 'string' && typeof p.value === 'number') out.push({ stage: p.stage, key: p.key, value: p.value, step: p.step ?? undefined, timestamp: p.timestamp });
    } catch { /* torn line */ }
  }
  return out;
}

/** Keeps the record current from run events; writes are serialised and coalesced. */
export class RunRecorder {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private readonly metricsFile: string;
  private points: string[] = [];
  private readonly writePoints = () => {
    if (!this.points.length) return;
    const text = this.points.join('');
    this.points = [];
    appendFileSync(this.metricsFile, text);
  };

  constructor(readonly dir: string, readonly record: RunRecord) {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    this.metricsFile = join(dir, 'metrics.jsonl');
  }

  readonly sink = (e: RunEvent): void => {
    const st = (id: StageId) => this.record.stages[id];
    switch (e.type) {
      case 'run-start': case 'stage-log': case 'stage-wait': return;
      case 'stage-progress': {
        const s = st(e.id);
        if (s) s.progress = { done: e.done, total: e.total };
        break;
      }
      case 'stage-start': {
        const s = st(e.id);
        if (s) { s.outcome = 'running'; s.startedAt = new Date(e.at).toISOString(); s.reason = describeStageStart(e); if (e.devices) s.devices = e.devices; }
        break;
      }
      case 'stage-metric': {
        const s = st(e.id);
        if (s) s.metrics[e.key] = e.value;
        // Every point, for local comparison and replay; the tracker has its own durable outbox.
        // Points arriving together (a stage streaming thousands a second) are appended in one write.
        if (this.points.push(JSON.stringify({ stage: e.id, key: e.key, value: e.value, step: e.step ?? null, timestamp: e.timestamp }) + '\n') === 1) setImmediate(this.writePoints);
        return;
      }
      case 'stage-artifact': {
        st(e.id)?.artifacts.push({ path: e.path, name: e.name ?? null });
        return;
      }
      case 'stage-warning': {
        const s = st(e.id);
        if (s) (s.warnings ??= []).push(e.message);
        break;
      }
      case 'stage-end': {
        const s = st(e.id);
        if (!s) break;
        const o = e.outcome;
        s.outcome = o.kind;
        s.endedAt = new Date(e.at).toISOString();
        switch (o.kind) {
          case 'ran': s.durationMs = o.durationMs; s.outputs = o.outputs; s.usage = o.usage; break;
          case 'restored': s.durationMs = o.durationMs; s.outputs = o.outputs; s.from = o.fromRun; break;
          case 'fresh': s.durationMs = 0; s.outputs = o.outputs; s.from = o.fromRun; break;
          case 'failed': s.durationMs = o.durationMs; s.failure = o.failure; s.usage = o.usage; break;
          case 'skipped': s.skipped = o.cause; break;
          case 'cancelled': break;
          case 'pruned': s.durationMs = o.durationMs; break;
          default: return unhandled(o);
        }
        break;
      }
      case 'run-interrupt': this.record.status = 'cancelled'; break;
      case 'run-end':
        this.record.status = e.status;
        this.record.endedAt = new Date(e.at).toISOString();
        this.record.durationMs = e.durationMs;
        break;
      default: return unhandled(e);
    }
    this.schedule();
  };

  private schedule() {
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      await writeJsonAtomic(join(this.dir, 'run.json'), this.record);
    });
  }

  async flush(): Promise<void> {
    this.writePoints();
    this.schedule();
    await this.writing;
  }
}
