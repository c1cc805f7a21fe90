// massflow's tracking layer: what the runner calls to record a run in MLflow.
//
//   const cfg = resolveTrackingConfig({ flags: { uri: opts.trackingUri }, spec: spec.tracking });
//   const t = await openTracker({ projectDir, runId, runDir, config: cfg.value, experimentName: spec.name,
//                                 runName, gitCommit, sourceName: 'pipelines/paper.yaml' });
//   t.startRun('root', { name: runName });
//   t.logParams('root', resolvedParams);                        // flattened: fit.lr
//   t.startRun('stage:fit-mass@fold=0', { parentKey: 'root', name: 'fit-mass@fold=0',
//              tags: { 'massflow.fingerprint': fp, 'massflow.cache': 'ran' } });
//   t.logMetric('stage:fit-mass@fold=0', 'val_mae', 0.23, epoch);
//   t.logArtifact('root', join(runDir, 'run.json'), 'run.json');
//   t.endRun('stage:fit-mass@fold=0', 'FINISHED'); t.endRun('root', 'FINISHED');
//   const summary = await t.close({ flushTimeoutMs: 5000 });   // { delivered, pending, ... }
//
// Everything is written to runs/<run-id>/tracking/ first; a server is optional and may fail.
// `syncRun` / `syncAll` deliver what is pending, exactly once. `mlflowUp` / `mlflowDown` manage
// the embedded local server.
export {
  openTracker, experimentUrl, TRACKING_DIR,
  type Tracker, type OpenTrackerOptions, type TrackerSummary, type TrackerTuning, type TrackResult, type TrackError, type TrackErrorKind,
} from './tracker.js';
export { syncRun, syncAll, type SyncOptions, type SyncRunResult, type SyncAllResult, type SyncStatus } from './sync.js';
export {
  resolveTrackingConfig, describeTrackingConfig, stripUserinfo,
  type TrackingConfig, type TrackingSpec, type TrackingFlags, type TrackingServer, type ConfigIssue, type ConfigSource, type ResolveTrackingInput,
} from './config.js';
export { TrackingSpecSchema } from './tracking-schema.js';
export { mlflowServerRecord, MLFLOW_DATA_DIR } from './server/record.js';
export { mlflowUp, mlflowDown, type MlflowUpOptions, type MlflowServerInfo, type LifecycleError, type LifecycleErrorKind } from './server/lifecycle.js';
export { MLFLOW_VERSION, VENV_DIR, ensureVenv } from './server/venv.js';
export { flattenParams, paramValue } from './params.js';
export { normalizeArtifactPath } from './paths.js';
export type { TrackingOp, RunKey, EndStatus, DatasetInput } from './ops.js';
export type { Rejection } from './state.js';
export type { Result } from '../core/result.js';
export { FakeTracker } from './fake.js';
export { secretMasker } from './redactors.js';
