// `massflow rerun RUN_ID`: the recorded spec snapshot and overrides compiled again, every selected
// stage executed again (forced: a cache hit would prove nothing) in a fresh workspace mirroring the
// project, so the user's outputs stay as they are; then each output's digest against the record.
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { StageId } from '../../core/brand.js';
import { digestOf } from '../../cache/canonical.js';
import type { Executor } from '../../exec/executor.js';
import { decide, selectStages } from '../../plan/decide.js';
import { openProject } from '../../project/open.js';
import { fingerprintAll, type DiskPlan } from '../../project/plan-from-disk.js';
import { detectBackend } from '../../project/backend-id.js';
import { gitInfo } from '../../record/git-info.js';
import { newRunId } from '../../record/run-id.js';
import { readRunRecord } from '../../record/run-record.js';
import { table } from '../../report/format.js';
import { RunView } from '../../report/run-view.js';
import { runPipeline } from '../../run/run-pipeline.js';
import { compilePipeline } from '../../pipeline/compile.js';
import { parseOverride, type Override } from '../../pipeline/params.js';
import { fileExistsIn } from '../../sweep/load.js';
import { readSweepRecord } from '../../sweep/record.js';
import { checkOutputs, findDrift } from '../../sweep/rerun.js';
import { createWorkspace, rerunsDir, workspaceLayout, workspacePaths } from '../../sweep/workspace.js';
import { DiagnosticsError, layoutFrom, printCrashCheck, type CommonOptions } from '../common.js';
import { gpuDevices } from '../../exec/gpus.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import { executorNamed } from '../executors.js';
import { positiveInt } from './run.js';

export interface RerunOptions extends CommonOptions {
  allowDrift?: boolean;
  executor?: string;
  jobs?: string;
  gpus?: string;
}

export async function rerunCommand(id: string, opts: RerunOptions, term: Terminal, argv: string[]): Promise<ExitCode> {
  if (opts.param?.length || opts.profile?.length) throw new UsageError('rerun replays the recorded params; -p and --profile cannot change them (use massflow run for a new run)');
  const layout = layoutFrom(opts);
  const record = await readRunRecord(layout.runsDir, id);
  if (!record) {
    const sweep = await readSweepRecord(layout.runsDir, id);
    if (sweep) throw new UsageError(`${id} is a sweep; rerun one of its trials${sweep.best ? `, e.g. the best: massflow rerun ${sweep.best.runId}` : ` (${sweep.trials.map((t) => t.runId).slice(0, 3).join(', ')}, ...)`}`);
    throw new UsageError(`no run '${id}' in runs/`);
  }

  const overrides: Override[] = [];
  for (const raw of record.overrides) {
    const p = parseOverride(raw);
    if (!p.ok) throw new UsageError(`the record's override ${p.message}`);
    overrides.push(p.override);
  }
  const compiled = compilePipeline({ file: record.pipeline.file, text: record.spec, overrides, profiles: record.profiles ?? [], fileExists: fileExistsIn(layout.root) });
  if (!compiled.pipeline) throw new DiagnosticsError(compiled.diagnostics, compiled.skipped);
  const pipeline = compiled.pipeline;
  const selection = selectStages(pipeline, record.targets);
  if (!selection.ok) throw new UsageError(`the record's targets ${selection.unknown.join(', ')} are not in its own spec`);

  // Fingerprints at the project's own paths (the stat cache knows them); the mirror has the same content.
  const project = openProject(layout);
  printCrashCheck(term, project);
  const backend = detectBackend();
  const { fingerprints, lockfile } = await fingerprintAll(project, pipeline, backend);
  const git = gitInfo(layout.root);
  const code = new Map<StageId, ReturnType<typeof digestOf>>([...fingerprints].map(([sid, fp]) => [sid, digestOf(fp.object.code)]));
  const drift = findDrift(record, { code, lockfile, git, backend });
  const blocking = drift.filter((d) => d.blocking);
  if (blocking.length && !opts.allowDrift) {
    throw new UsageError(`the project drifted from run ${id}; a replay would not test the recorded computation:\n  ${blocking.map((d) => d.message).join('\n  ')}\n(--allow-drift replays it anyway)`);
  }
  for (const d of drift) term.err.write(`${term.style.yellow('warning')}: ${d.message}\n`);

  const jobs = positiveInt(opts.jobs, '--jobs') ?? availableParallelism();
  if (jobs === 0) throw new UsageError('--jobs must be at least 1');
  const make = executorNamed(opts.executor ?? 'local');
  const runId = newRunId();
  const root = join(rerunsDir(layout), runId);
  const paths = workspacePaths(pipeline);
  await createWorkspace(layout.root, root, paths.outs, paths.keep);
  const ws = openProject(workspaceLayout(layout, root));
  const analysis: DiskPlan = {
    fingerprints,
    plan: decide(pipeline, selection.selected, fingerprints, { entries: new Map(), workspace: new Map(), previous: new Map() }, true),
    backend,
    lockfile,
    previous: new Map(),
  };
  const executor: Executor = await make(ws, pipeline);

  term.out.write(`rerun of ${id} (${record.pipeline.file}${record.sweep ? `, trial ${record.sweep.trial} of sweep ${record.sweep.id}` : ''}) in ${relative(layout.root, root)}\n`);
  const view = new RunView(term.out, term.style, term.live);
  view.setLogsDir(`runs/${runId}/logs`);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let result;
  try {
    result = await runPipeline(ws, pipeline, analysis, executor, {
      runId, jobs, gpus: gpuDevices(positiveInt(opts.gpus, '--gpus')), keepGoing: true, force: true,
      argv, targets: record.targets, overrides: record.overrides, profiles: record.profiles, git, rerunOf: record.runId,
    }, [view.sink], abort.signal);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (result.status === 'cancelled') return EXIT.cancelled;

  const checks = checkOutputs(record, result.outcomes);
  const rows = checks.map((c) => [c.stage, c.path, c.recorded.slice(0, 12), c.now?.slice(0, 12) ?? '-', c.verdict]);
  term.out.write(`outputs against run ${id}:\n`);
  if (rows.length) term.out.write(table([['stage', 'output', 'recorded', 'now', 'verdict'], ...rows]).join('\n') + '\n');
  const matched = checks.filter((c) => c.verdict === 'match').length;
  const ok = matched === checks.length && result.status === 'succeeded';
  const verdict = ok ? term.style.green('reproduced') : term.style.red('not reproduced');
  term.out.write(`${verdict}: ${matched} of ${checks.length} outputs match the record · rerun ${runId}\n`);
  return ok ? EXIT.ok : EXIT.stageFailed;
}
