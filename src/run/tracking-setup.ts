// Chooses where a run is tracked (flag > MLFLOW_TRACKING_URI > spec > the project's embedded server
// started by `massflow mlflow up` > offline) and opens the tracker for it.
import { gitInfo } from '../record/git-info.js';
// Not the track/ index: it would load the server's start-up code and the HTTP stack into every run.
import { resolveTrackingConfig, type TrackingConfig, type TrackingFlags, type TrackingSpec } from '../track/config.js';
import { mlflowServerRecord } from '../track/server/record.js';
import { openTracker, type Tracker } from '../track/tracker.js';

export type TrackingChoice = { ok: true; config: TrackingConfig } | { ok: false; messages: string[] };

export function chooseTracking(projectDir: string, flags: TrackingFlags, spec: TrackingSpec | undefined, env: NodeJS.ProcessEnv = process.env): TrackingChoice {
  const r = resolveTrackingConfig({ flags, spec, env });
  if (!r.ok) return { ok: false, messages: r.error.map((i) => `${i.field} (${i.source}): ${i.message}`) };
  const explicit = flags.uri !== undefined || env['MLFLOW_TRACKING_URI'] !== undefined || spec?.uri !== undefined;
  if (r.value.mode === 'offline' && !explicit) {
    const embedded = mlflowServerRecord(projectDir);
    if (embedded) {
      const e = resolveTrackingConfig({ flags: { ...flags, uri: embedded.url }, spec, env });
      if (e.ok) return { ok: true, config: e.value };
    }
  }
  return { ok: true, config: r.value };
}

export async function openRunTracker(o: { projectDir: string; runId: string; runDir: string; config: TrackingConfig; experimentName: string; sourceName: string; onWarning: (m: string) => void }): Promise<Tracker | string> {
  const commit = gitInfo(o.projectDir).commit;
  const t = await openTracker({
    projectDir: o.projectDir,
    runId: o.runId,
    runDir: o.runDir,
    config: o.config,
    experimentName: o.experimentName,
    sourceName: o.sourceName,
    ...(commit ? { gitCommit: commit } : {}),
    onWarning: o.onWarning,
  });
  return t.ok ? t.value : t.error.message;
}
