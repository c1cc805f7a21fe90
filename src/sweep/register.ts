// Registers the experiment commands (sweep, compare, rerun) and lets `massflow run` take an
// experiment file. Only this light module loads with the CLI; the commands load on use.
import { Option, type Command } from 'commander';
import { layoutFrom, type CommonOptions } from '../cli/common.js';
import { UsageError } from '../cli/exit-codes.js';
import { extraCommands } from '../cli/registry.js';
import { isExperimentFile } from './detect.js';

/** What the user typed (records keep it); the registry hands commands no argv of their own. */
const userArgv = () => process.argv.slice(2);

extraCommands.push((program, term, setCode, common) => {
  common(program.command('sweep')
    .description('Run an experiment: its trials as one DAG in which stages with the same fingerprint run once.')
    .argument('<experiment>', 'an experiment file (experiments/NAME.yaml)')
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS, else the GPUs nvidia-smi -L lists); each stage gets its own devices in CUDA_VISIBLE_DEVICES')
    .option('--concurrency <n>', "trials in progress at once (default: the experiment's concurrency, else no limit)")
    .option('-k, --keep-going', 'finish the stages of a failed trial that do not depend on the failure')
    .option('-f, --force', 'run every stage even when cached (each distinct stage still runs once)')
    .option('-n, --dry-run', 'list the trials and, per trial, the stages it would run, share or find cached')
    .option('--tracking-uri <uri>', "MLflow server (or `none`); over MLFLOW_TRACKING_URI and the experiment's tracking.uri")
    .addOption(new Option('--executor <name>', 'where stages run')))
    .action(async (file: string, opts) => setCode(await (await import('../cli/commands/sweep.js')).sweepCommand(file, opts, term, userArgv())));

  common(program.command('compare')
    .description('Compare runs: the params that differ and the metrics, ranked by the objective.')
    .argument('<runs...>', 'experiment files (their latest sweep), sweep ids or run ids')
    .option('--objective <stage/key>', "rank by this metric (default: the sweep's objective)")
    .addOption(new Option('--direction <dir>', 'min or max (with --objective)').choices(['min', 'max']))
    .option('-m, --metric <stage/key>', "show this metric (repeatable; default: the objective stage's metrics)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print the comparison as JSON')
    .option('--plot <file.png>', 'also draw the objective against each varied param'))
    .action(async (runs: string[], opts) => setCode(await (await import('../cli/commands/compare.js')).compareCommand(runs, opts, term)));

  common(program.command('rerun')
    .description('Replay a recorded run from its spec snapshot and overrides, forced, in a fresh workspace; check every output digest against the record.')
    .argument('<run-id>')
    .option('--allow-drift', 'replay even when code or the lockfile differ from the record (warns)')
    .addOption(new Option('--executor <name>', 'where stages run (default: local)'))
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS, else the GPUs nvidia-smi -L lists); each stage gets its own devices in CUDA_VISIBLE_DEVICES'))
    .action(async (runId: string, opts) => setCode(await (await import('../cli/commands/rerun.js')).rerunCommand(runId, opts, term, userArgv())));

  // `massflow run experiments/NAME.yaml` runs the experiment. The run command's own handler stays in
  // charge of pipelines: it is wrapped, not replaced, so whatever it does keeps working.
  const run = program.commands.find((c) => c.name() === 'run') as (Command & { _actionHandler?: (a: unknown[]) => unknown }) | undefined;
  const original = run?._actionHandler;
  if (!run || typeof original !== 'function') return;
  run._actionHandler = async (processed: unknown[]) => {
    const args = (processed[0] ?? []) as string[];
    const opts = run.opts() as CommonOptions;
    if (args.length === 0 || !isExperimentFile(layoutFrom(opts).root, args[0]!)) return original.call(run, processed);
    if (args.length > 1) throw new UsageError(`an experiment runs whole trials; stage names (${args.slice(1).join(', ')}) cannot follow ${args[0]}`);
    setCode(await (await import('../cli/commands/sweep.js')).sweepCommand(args[0]!, opts, term, userArgv()));
    return undefined;
  };
});
