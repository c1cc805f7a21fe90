// `massflow sweep EXPERIMENT` (also `massflow run EXPERIMENT`), and the registration of the
// experiment commands: sweep, compare, rerun.
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { LocalExecutor } from '../../exec/local.js';
import type { Executor } from '../../exec/executor.js';
import { openProject } from '../../project/analyze.js';
import { gitInfo } from '../../record/git-info.js';
import { newRunId } from '../../record/run-id.js';
import { renderDiagnostics } from '../../report/diagnostics.js';
import { defaultGpus } from '../../run/run-pipeline.js';
import { dryRunLines } from '../../sweep/dry-run.js';
import { fileExistsIn, isExperimentFile, loadExperiment } from '../../sweep/load.js';
import { planSweep } from '../../sweep/plan.js';
import { runSweep } from '../../sweep/run-sweep.js';
import { SweepView } from '../../sweep/view.js';
import { DiagnosticsError, layoutFrom, parseOverrides, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import { extraCommands } from '../registry.js';
import type { Terminal } from '../terminal.js';
import { rerunCommand } from './rerun.js';
import { positiveInt, runHooks } from './run.js';

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
  const loaded = loadExperiment(layout.root, file, parseOverrides(opts.param));
  if (!loaded.ok) throw new DiagnosticsError(loaded.diagnostics, loaded.sources);
  if (loaded.warnings.length) term.err.write(renderDiagnostics(loaded.warnings, loaded.sources, term.style).join('\n') + '\n');
  const exp = loaded.experiment;
  const jobs = positiveInt(opts.jobs, '--jobs') ?? availableParallelism();
  if (jobs === 0) throw new UsageError('--jobs must be at least 1');
  const concurrency = positiveInt(opts.concurrency, '--concurrency') ?? exp.spec.concurrency;
  if (concurrency === 0) throw new UsageError('--concurrency must be at least 1');

  const project = openProject(layout);
  const sweepId = newRunId();
  const planned = await planSweep(project, exp, sweepId, { force: Boolean(opts.force), fileExists: fileExistsIn(layout.root) });
  if (!planned.ok) throw new DiagnosticsError(planned.diagnostics, new Map([...loaded.sources, ...planned.sources]));
  const plan = planned.plan;
  if (opts.dryRun) {
    term.out.write(dryRunLines(plan).join('\n') + '\n');
    return EXIT.ok;
  }

  const executorName = opts.executor ?? exp.base.executor;
  let executor: Executor;
  if (executorName === 'local') executor = new LocalExecutor();
  else {
    const make = runHooks.executors?.[executorName];
    if (!make) throw new UsageError(`unknown executor '${executorName}' (known: local${Object.keys(runHooks.executors ?? {}).map((k) => `, ${k}`).join('')})`);
    executor = await make(project, exp.base);
  }
  const git = gitInfo(layout.root);
  // Loaded on use: the tracking client is not needed by every command.
  const { openSweepTracking } = await import('../../sweep/tracking.js');
  const tracking = await openSweepTracking({
    projectDir: layout.root, sweepId, runsDir: layout.runsDir, spec: exp.spec.tracking, uri: opts.trackingUri,
    experimentName: exp.name, gitCommit: git.commit, sourceName: exp.file, objective: exp.spec.objective,
  });
  if (!tracking.ok) throw new UsageError(`tracking is misconfigured:\n  ${tracking.problems.join('\n  ')}`);

  const view = new SweepView(term.out, term.style);
  view.setObjective(exp.spec.objective?.metric);
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) abort.abort();
    else process.exit(EXIT.cancelled); // a second Ctrl-C: the user insists
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const record = await runSweep(project, plan, {
      jobs, gpus: positiveInt(opts.gpus, '--gpus') ?? defaultGpus(), keepGoing: Boolean(opts.keepGoing), force: Boolean(opts.force),
      concurrency, argv, executor, git,
    }, view.sink, tracking.tracking, abort.signal);
    for (const line of await tracking.tracking.close()) term.out.write(line + '\n');
    return record.status === 'succeeded' ? EXIT.ok : record.status === 'cancelled' ? EXIT.cancelled : EXIT.stageFailed;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** What the user typed (records keep it); the registry hands commands no argv of their own. */
const userArgv = () => process.argv.slice(2);

extraCommands.push((program, term, setCode, common) => {
  common(program.command('sweep')
    .description('Run an experiment: its trials as one DAG in which stages with the same fingerprint run once.')
    .argument('<experiment>', 'an experiment file (experiments/NAME.yaml)')
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS or 0)')
    .option('--concurrency <n>', 'trials in progress at once (default: the experiment\'s concurrency, else no limit)')
    .option('-k, --keep-going', 'finish the stages of a failed trial that do not depend on the failure')
    .option('-f, --force', 'run every stage even when cached (each distinct stage still runs once)')
    .option('-n, --dry-run', 'list the trials and, per trial, the stages it would run, share or find cached')
    .option('--tracking-uri <uri>', 'MLflow tracking server (or "none"); overrides MLFLOW_TRACKING_URI and the experiment\'s tracking.uri')
    .addOption(new Option('--executor <name>', 'where stages run')))
    .action(async (file: string, opts: SweepCommandOptions) => setCode(await sweepCommand(file, opts, term, userArgv())));

  common(program.command('compare')
    .description('Compare runs: the params that differ and the metrics, ranked by the objective.')
    .argument('<runs...>', 'experiment files (their latest sweep), sweep ids or run ids')
    .option('--objective <stage/key>', 'rank by this metric (default: the sweep\'s objective)')
    .addOption(new Option('--direction <dir>', 'min or max (with --objective)').choices(['min', 'max']))
    .option('-m, --metric <stage/key>', 'show this metric (repeatable; default: the objective stage\'s metrics)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print the comparison as JSON')
    .option('--plot <file.png>', 'also draw the objective against each varied param'))
    .action(async (runs: string[], opts) => setCode(await (await import('./compare.js')).compareCommand(runs, opts, term)));

  common(program.command('rerun')
    .description('Replay a recorded run from its spec snapshot and overrides, forced, and check every output digest against the record.')
    .argument('<run-id>')
    .option('--allow-drift', 'run even when code or the lockfile differ from the record (warns)')
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS or 0)'))
    .action(async (runId: string, opts) => setCode(await rerunCommand(runId, opts, term, userArgv())));

  // `massflow run experiments/NAME.yaml` runs the experiment. The run command's own handler stays
  // in charge of pipelines; it is wrapped, not replaced, so whatever it does keeps working.
  const run = program.commands.find((c) => c.name() === 'run') as (Command & { _actionHandler?: (a: unknown[]) => unknown }) | undefined;
  const original = run?._actionHandler;
  if (run && typeof original === 'function') {
    run._actionHandler = async (processed: unknown[]) => {
      const args = (processed[0] ?? []) as string[];
      const opts = run.opts() as SweepCommandOptions;
      if (args.length === 0 || !/\.ya?ml$/i.test(args[0]!) || !isExperimentFile(layoutFrom(opts).root, args[0]!)) return original.call(run, processed);
      if (args.length > 1) throw new UsageError(`an experiment runs whole trials; stage names (${args.slice(1).join(', ')}) cannot follow ${args[0]}`);
      setCode(await sweepCommand(args[0]!, opts, term, userArgv()));
      return undefined;
    };
  }
});
