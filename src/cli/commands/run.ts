// `massflow run [PIPELINE] [STAGE...]`
import { gpuDevices } from '../../exec/gpus.js';
import { planFromDisk } from '../../project/plan-from-disk.js';
import { newRunId } from '../../record/run-id.js';
import { RunView } from '../../report/run-view.js';
import { runPipeline } from '../../run/run-pipeline.js';
import type { Pipeline } from '../../pipeline/model.js';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { StageId } from '../../core/brand.js';
import { succeeded, type StageOutcome } from '../../core/run-events.js';
import type { DiskPlan } from '../../project/plan-from-disk.js';
import type { RunRecord } from '../../record/run-record.js';
import type { TrackerSummary } from '../../track/tracker.js';
import { DiagnosticsError, loadForCommand, printDiagnostics, printWarnings, select, splitArgs, type CommonOptions } from '../common.js';
import { withInterrupts } from '../interrupts.js';
import { preflightParams } from '../param-preflight.js';
import { executorNamed } from '../executors.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import { pushAfterRun } from '../remote-setup.js';

export interface RunCommandOptions extends CommonOptions {
  jobs?: string;
  gpus?: string;
  keepGoing?: boolean;
  force?: boolean;
  executor?: string;
  trackingUri?: string;
  experiment?: string;
  trackUnchanged?: boolean;
}

export function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a non-negative integer, got '${v}'`);
  return n;
}

/** The `summary:` files of the stages that succeeded, framed with their stage and path. */
async function stageSummaries(root: string, pipeline: Pipeline, outcomes: Map<StageId, StageOutcome>): Promise<string[]> {
  const lines: string[] = [];
  for (const s of pipeline.stages) {
    const o = outcomes.get(s.id);
    if (!s.summary || !o || !succeeded(o)) continue;
    const text = await readFile(join(root, s.summary), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    lines.push('', `${s.id} summary (${s.summary}):`, ...text.trimEnd().split('\n'));
  }
  return lines;
}

interface TrackingRequest { runId: string; argv: string[]; profiles: string[]; overrides: string[] }

/** The tracking modules (the MLflow client, the config schema) load here, so a run that logs nothing does not pay for them. */
async function openTracking(root: string, pipeline: Pipeline, analysis: DiskPlan, req: TrackingRequest, opts: RunCommandOptions, term: Terminal) {
  const [{ chooseTracking, openRunTracker }, { TrackingSink }, { pipelineRunName }, { describeTrackingConfig, stripUserinfo }, { experimentUrl }, { secretMasker }] = await Promise.all([
    import('../../run/tracking-setup.js'), import('../../run/tracking-sink.js'), import('../../run/run-label.js'),
    import('../../track/config.js'), import('../../track/tracker.js'), import('../../track/redactors.js'),
  ]);
  const { runId } = req;
  const choice = chooseTracking(root, { ...(opts.trackingUri ? { uri: opts.trackingUri } : {}), ...(opts.experiment ? { experiment: opts.experiment } : {}) }, pipeline.tracking);
  if (!choice.ok) throw new UsageError(`tracking settings: ${choice.messages.join('; ')}`);
  const runDir = join(root, 'runs', runId);
  const tracker = await openRunTracker({
    projectDir: root, runId, runDir, config: choice.config, experimentName: pipeline.tracking.experiment ?? pipeline.name,
    sourceName: pipeline.file, onWarning: (m) => term.err.write(`tracking: ${m}\n`),
  });
  if (typeof tracker === 'string') { term.err.write(`tracking disabled for this run: ${tracker}\n`); return undefined; }
  const sink = new TrackingSink({
    tracker, pipeline, runDir, fingerprints: analysis.fingerprints,
    rootName: pipelineRunName(pipeline.name, req.profiles, req.overrides),
    note: { argv: req.argv, profiles: req.profiles, overrides: req.overrides },
    onRejected: (e) => term.err.write(`tracking: ${e.message}\n`),
  });
  const uri = choice.config.mode === 'server' ? stripUserinfo(choice.config.server.uri) : undefined;
  const where = describeTrackingConfig(choice.config);
  return { sink, redact: secretMasker(choice.config), line: (s: TrackerSummary) => trackingLine(s, where, runId, uri, experimentUrl) };
}

function unchangedLine(record: RunRecord): string {
  const from = [...new Set(Object.values(record.stages).map((s) => s.from).filter((f): f is string => f !== undefined))].sort();
  return `tracking: nothing ran, so no MLflow run was logged${from.length ? ` (results from run ${from.join(', ')})` : ''}; --track-unchanged logs one anyway`;
}

function trackingLine(s: TrackerSummary, where: string, runId: string, uri: string | undefined, experimentUrl: (uri: string, id: string) => string): string {
  if (s.mode === 'offline') return `tracking: ${where}`;
  const rejected = s.rejected.length ? `, ${s.rejected.length} rejected by the server` : '';
  if (s.pending > 0) return `tracking: ${s.delivered} of ${s.recorded} records delivered to ${where}; ${s.pending} queued in runs/${runId}/tracking (\`massflow sync\` delivers them)${rejected}`;
  const id = Object.values(s.experiments)[0];
  const open = id !== undefined && uri !== undefined ? `\nruns table: ${experimentUrl(uri, id)}` : '';
  return `tracking: ${s.recorded} records delivered to ${where}${rejected}${open}`;
}

export async function runCommand(args: string[], opts: RunCommandOptions, term: Terminal, argv: string[]): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args);
  const loaded = await loadForCommand(opts, spec, true);
  const { project, pipeline, overrides, profiles } = loaded;
  printWarnings(term, loaded);
  const selected = select(pipeline, stages);
  const jobs = positiveInt(opts.jobs, '--jobs');
  if (jobs === 0) throw new UsageError('--jobs must be at least 1');
  const executor = await executorNamed(opts.executor ?? pipeline.executor)(project, pipeline, { overrides, profiles, warn: (ws) => printDiagnostics(term, new DiagnosticsError(ws)) });
  const analysis = await planFromDisk(project, pipeline, selected, Boolean(opts.force));
  if (project.remote?.problem) term.err.write(`remote ${project.remote.url} not consulted: ${project.remote.problem}\n`);
  await preflightParams(project.layout.root, pipeline, analysis, overrides, profiles);
  const runId = newRunId();
  const view = new RunView(term.out, term.style, term.live);
  view.setLogsDir(`runs/${runId}/logs`);
  // A run in which nothing executes adds no MLflow run: its results are already there, from the runs its record names.
  const unchanged = !analysis.plan.some((p) => p.decision.kind === 'run');
  const tracking = unchanged && !opts.trackUnchanged ? undefined
    : await openTracking(project.layout.root, pipeline, analysis, { runId, argv, profiles: profiles ?? [], overrides }, opts, term);

  return withInterrupts(async (signal) => {
    const result = await runPipeline(project, pipeline, analysis, executor, {
      runId,
      jobs,
      gpus: gpuDevices(positiveInt(opts.gpus, '--gpus')),
      keepGoing: Boolean(opts.keepGoing),
      force: Boolean(opts.force),
      argv,
      targets: stages,
      overrides,
      profiles,
      redact: tracking?.redact,
    }, [view.sink, ...(tracking ? [tracking.sink.sink] : [])], signal);
    for (const line of await stageSummaries(project.layout.root, pipeline, result.outcomes)) term.out.write(line + '\n');
    await pushAfterRun(project, [runId], term);
    if (tracking) term.out.write(tracking.line(await tracking.sink.close(result.status, 5000)) + '\n');
    else if (unchanged) term.out.write(unchangedLine(result.record) + '\n');
    return result.status === 'succeeded' ? EXIT.ok : result.status === 'cancelled' ? EXIT.cancelled : EXIT.stageFailed;
  });
}
