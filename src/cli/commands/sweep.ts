// `massflow sweep EXPERIMENT` (also `massflow run EXPERIMENT`): validate, plan the trials as one DAG,
// then list them (--dry-run) or run them. Registered by src/cli/commands/experiment-register.ts.
import { availableParallelism } from 'node:os';
import { openProject } from '../../project/open.js';
import { gitInfo } from '../../record/git-info.js';
import { newRunId } from '../../record/run-id.js';
import { renderDiagnostics } from '../../report/diagnostics.js';
import { diag } from '../../pipeline/diagnostics.js';
import { YamlSource } from '../../pipeline/yaml-source.js';
import { dryRunLines } from '../../sweep/dry-run.js';
import { fileExistsIn, loadExperiment } from '../../sweep/load.js';
import { planSweep } from '../../sweep/plan.js';
import { runSweep } from '../../sweep/run-sweep.js';
import { SweepView } from '../../sweep/view.js';
import { DiagnosticsError, layoutFrom, parseOverrides, printCrashCheck, type CommonOptions } from '../common.js';
import { withInterrupts } from '../interrupts.js';
import { preflightSweepParams } from '../param-preflight.js';
import { gpuDevices } from '../../exec/gpus.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import { executorNamed } from '../executors.js';
import { positiveInt } from './run.js';
import { pushAfterRun, useRemote } from '../remote-setup.js';
import { inspectStudy, openStudy, optunaPython } from '../../sweep/optuna/study-child.js';
import { optunaDryRunLines } from '../../sweep/optuna/dry-run.js';
import { relative } from 'node:path';
import { maskPassword, storageUrl, StudySource, studyOpen } from '../../sweep/optuna/run-study.js';
import type { Experiment } from '../../sweep/experiment.js';
import { objectivesOf } from '../../sweep/objective.js';

/** A study failure at the `sweep.optuna` field at fault (the block itself when that field is not written). */
function studyDiagnostic(exp: Experiment, field: 'storage' | 'sampler', message: string): DiagnosticsError {
  const optuna = exp.spec.sweep!.optuna!;
  const written = optuna[field] !== undefined;
  // The line shown under the error is the file's, with a password in a storage URL masked.
  const text = optuna.storage ? exp.text.replace(optuna.storage, maskPassword(optuna.storage)) : exp.text;
  const at = YamlSource.parse(exp.file, text).source.locate(['sweep', 'optuna', ...(written ? [field] : [])], { key: !written });
  return new DiagnosticsError([diag('experiment', message, at)]);
}

/** What stops the study process from opening or reading the study: located when a field is at fault. */
const studyFailure = (exp: Experiment, e: { field?: 'storage' | 'sampler' | undefined; message: string }, doing: 'open' | 'read') =>
  e.field ? studyDiagnostic(exp, e.field, e.message) : new UsageError(`cannot ${doing} the Optuna study: ${e.message}`);

/** --dry-run of an Optuna sweep: the study as it stands, read without asking or changing anything. */
async function optunaDryRun(root: string, exp: Experiment): Promise<string[]> {
  const python = optunaPython(root);
  if (!python.ok) throw new UsageError(python.error);
  const optuna = exp.spec.sweep!.optuna!;
  const study = optuna.study ?? exp.name;
  // Read only: not even the default storage's folder is made.
  const storage = storageUrl(root, optuna, study, false);
  const state = await inspectStudy(python.value, { storage, study }, root);
  if (!state.ok) throw studyFailure(exp, state.error, 'read');
  return optunaDryRunLines(exp, optuna, maskPassword(optuna.storage ?? relative(root, storage.replace(/^sqlite:\/\/\//, ''))), state.value);
}

/**
 * The experiment's Optuna study, opened or resumed; what stops it is a usage error (exit 2),
 * located at the field at fault (an unreachable storage, a sampler missing its package).
 */
async function openSweepStudy(root: string, exp: Experiment) {
  const python = optunaPython(root);
  if (!python.ok) throw new UsageError(python.error);
  const optuna = exp.spec.sweep!.optuna!;
  const opened = await openStudy(python.value, studyOpen(root, exp, optuna), root);
  if (opened.ok) return opened.value;
  throw studyFailure(exp, opened.error, 'open');
}

export interface SweepCommandOptions extends CommonOptions {
  jobs?: string;
  gpus?: string;
  keepGoing?: boolean;
  force?: boolean;
  executor?: string;
  concurrency?: string;
  dryRun?: boolean;
  trackingUri?: string;
}

export async function sweepCommand(file: string, opts: SweepCommandOptions, term: Terminal, argv: string[]): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const loaded = loadExperiment(layout.root, file, parseOverrides(opts.param), opts.profile ?? []);
  if (!loaded.ok) throw new DiagnosticsError(loaded.diagnostics, loaded.skipped);
  if (loaded.warnings.length) term.err.write(renderDiagnostics(loaded.warnings, term.style).join('\n') + '\n');
  const exp = loaded.experiment;
  const jobs = positiveInt(opts.jobs, '--jobs') ?? availableParallelism();
  if (jobs === 0) throw new UsageError('--jobs must be at least 1');
  const concurrency = positiveInt(opts.concurrency, '--concurrency') ?? exp.spec.concurrency;
  if (concurrency === 0) throw new UsageError('--concurrency must be at least 1');

  const project = openProject(layout);
  printCrashCheck(term, project);
  await useRemote(project, exp.base.remote);
  const sweepId = newRunId();
  const planned = await planSweep(project, exp, sweepId, { force: Boolean(opts.force), fileExists: fileExistsIn(layout.root) });
  if (!planned.ok) throw new DiagnosticsError(planned.diagnostics);
  const plan = planned.plan;
  await preflightSweepParams(layout.root, plan, opts.param ?? []);
  const optuna = exp.spec.sweep?.optuna;
  if (opts.dryRun) {
    term.out.write((optuna ? await optunaDryRun(layout.root, exp) : dryRunLines(plan)).join('\n') + '\n');
    return EXIT.ok;
  }
  // The study is opened (or resumed) before anything runs: a missing Optuna or a bad storage stops here.
  const study = optuna ? await openSweepStudy(layout.root, exp) : undefined;

  const executor = await executorNamed(opts.executor ?? exp.base.executor)(project, exp.base);
  const git = gitInfo(layout.root);
  // Loaded on use: the tracking client is not needed by every command.
  const { openSweepTracking } = await import('../../sweep/tracking.js');
  const tracking = await openSweepTracking({
    projectDir: layout.root, sweepId, runsDir: layout.runsDir, spec: exp.spec.tracking, uri: opts.trackingUri,
    experimentName: exp.name, sourceName: exp.file, objectives: objectivesOf(exp.spec.objective), onWarning: (m) => term.err.write(`tracking: ${m}\n`),
  });
  if (!tracking.ok) throw new UsageError(`tracking settings: ${tracking.problems.join('; ')}`);

  const view = new SweepView(term.out, term.style);
  view.setObjectives(objectivesOf(exp.spec.objective));
  const source = study && new StudySource(project, exp, sweepId, study, {
    force: Boolean(opts.force), fileExists: fileExistsIn(layout.root),
    onIntermediate: (trial, key, value, step) => tracking.tracking?.trialIntermediate(trial, key, value, step),
  });
  return withInterrupts(async (signal) => {
    const record = await runSweep(project, plan, {
      jobs, gpus: gpuDevices(positiveInt(opts.gpus, '--gpus')), keepGoing: Boolean(opts.keepGoing), force: Boolean(opts.force),
      concurrency, argv, executor, git,
    }, view.sink, tracking.tracking, signal, source).finally(() => study?.close());
    await pushAfterRun(project, record.trials.map((t) => t.runId), term);
    if (tracking.tracking) term.out.write(await tracking.tracking.close(sweepId) + '\n');
    return record.status === 'succeeded' ? EXIT.ok : record.status === 'cancelled' ? EXIT.cancelled : EXIT.stageFailed;
  });
}
