// The experiment commands (sweep, compare, rerun); the implementations load on use.
import { Option } from 'commander';
import type { AddCommands } from '../registry.js';

/** What the user typed (records keep it); the registry hands commands no argv of their own. */
const userArgv = () => process.argv.slice(2);

export const addExperimentCommands: AddCommands = (program, term, setCode, common) => {
  common(program.command('sweep')
    .description('Run an experiment: its trials as one DAG in which stages with the same fingerprint run once.')
    .argument('<experiment>', 'an experiment file (experiments/NAME.yaml)')
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS or 0)')
    .option('--concurrency <n>', "trials in progress at once (default: the experiment's concurrency, else no limit)")
    .option('-k, --keep-going', 'finish the stages of a failed trial that do not depend on the failure')
    .option('-f, --force', 'run every stage even when cached (each distinct stage still runs once)')
    .option('-n, --dry-run', 'list the trials and, per trial, the stages it would run, share or find cached')
    .option('--tracking-uri <uri>', "MLflow server (or `none`); over MLFLOW_TRACKING_URI and the experiment's tracking.uri")
    .addOption(new Option('--executor <name>', 'where stages run')))
    .action(async (file: string, opts) => setCode(await (await import('./sweep.js')).sweepCommand(file, opts, term, userArgv())));

  common(program.command('compare')
    .description('Compare runs: the params that differ and the metrics, ranked by the objective.')
    .argument('<runs...>', 'experiment files (their latest sweep), sweep ids or run ids')
    .option('--objective <stage/key>', "rank by this metric (default: the sweep's objective)")
    .addOption(new Option('--direction <dir>', 'min or max (with --objective)').choices(['min', 'max']))
    .option('-m, --metric <stage/key>', "show this metric (repeatable; default: the objective stage's metrics)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print the comparison as JSON')
    .option('--plot <file.png>', 'also draw the objective against each varied param'))
    .action(async (runs: string[], opts) => setCode(await (await import('./compare.js')).compareCommand(runs, opts, term)));

  common(program.command('rerun')
    .description('Replay a recorded run from its spec snapshot and overrides, forced, in a fresh workspace; check every output digest against the record.')
    .argument('<run-id>')
    .option('--allow-drift', 'replay even when code or the lockfile differ from the record (warns)')
    .addOption(new Option('--executor <name>', 'where stages run (default: local)'))
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS or 0)'))
    .action(async (runId: string, opts) => setCode(await (await import('./rerun.js')).rerunCommand(runId, opts, term, userArgv())));
};
