// The `massflow` command line. Commands parse their arguments here and delegate; every user
// mistake ends as a message and exit code 2, never a stack trace. Command modules load on use,
// so `status` does not pay for the executor's imports.
import { Argument, Command, CommanderError, Option } from 'commander';
import { BACKEND_ENV, BACKEND_NAMES } from '../ml/backend-describe.js';
import { MASSFLOW_VERSION } from '../core/package.js';
import { isExperimentFile } from '../sweep/detect.js';
import { DiagnosticsError, layoutFrom, printDiagnostics, type CommonOptions } from './common.js';
import { EXIT, UsageError } from './exit-codes.js';
import { processTerminal, type Terminal } from './terminal.js';
import { addExperimentCommands } from './commands/experiment-register.js';
import { addTrackingCommands } from './commands/tracking-register.js';
import { addProjectCommands } from './commands/project-register.js';
import { addRemoteCommands } from './commands/remote-register.js';
import { REMOTE_ENV } from '../remote/env.js';

const EXIT_HELP = `
Exit codes:
  0    success
  1    a stage failed
  2    bad spec or usage
  130  cancelled (Ctrl-C)`;

export function buildProgram(term: Terminal, argv: string[], setCode: (c: number) => void): Command {
  const program = new Command('massflow')
    .description('Run YAML pipelines of ML stages as a cached, parallel DAG, tracked in MLflow.')
    .version(MASSFLOW_VERSION)
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => term.out.write(s), writeErr: (s) => term.err.write(s) })
    .showHelpAfterError('(add --help for usage)');

  const common = (c: Command) => c
    .option('-C, --project <dir>', 'project directory (default: the current directory)')
    .option('-p, --param <key=value>', 'override a param (repeatable; +key=value adds a new one)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--profile <name>', "apply a named param set from the spec's profiles (repeatable, before -p)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--remote <url>', `remote cache s3://BUCKET/PREFIX, or none (over ${REMOTE_ENV} and the spec's remote:)`)
    .addOption(new Option('--backend <name>', `tensor backend for the stages (over ${BACKEND_ENV}; default: the first that loads)`).choices([...BACKEND_NAMES, 'auto']));

  // The backend enters every fingerprint and reaches the stage processes through the environment
  // (the executors pass it on), so the flag sets the variable before any command looks at it.
  program.hook('preAction', (_program, action) => {
    const backend = action.opts()['backend'] as string | undefined;
    if (backend) process.env[BACKEND_ENV] = backend;
    // Through the environment too, so sweeps and Slurm jobs see the same remote.
    const remote = action.opts()['remote'] as string | undefined;
    if (remote) process.env[REMOTE_ENV] = remote;
  });

  common(program.command('run')
    .description('Run the pipeline (or the named stages and what they need); cached stages are skipped or restored.')
    .argument('[pipeline-and-stages...]', 'a pipeline file (default: massflow.yaml or the only file in pipelines/), then stage names')
    .option('-j, --jobs <n>', 'stages run at once at most (default: the number of cores)')
    .option('--gpus <n>', 'GPU slots available to stages (default: MASSFLOW_GPUS, else the GPUs nvidia-smi -L lists); each stage gets its own devices in CUDA_VISIBLE_DEVICES')
    .option('-k, --keep-going', 'after a failure, keep running stages that do not depend on it')
    .option('-f, --force', 'run the selected stages even when cached')
    .option('--tracking-uri <uri>', 'MLflow server (over MLFLOW_TRACKING_URI and the spec); `none` keeps the run local')
    .option('--experiment <name>', 'MLflow experiment (default: the pipeline name)')
    .option('--track-unchanged', 'log the run to MLflow even when nothing executes (by default such a run adds no MLflow run)')
    .addOption(new Option('--executor <name>', 'where stages run').choices(['local', 'slurm'])))
    .addHelpText('after', EXIT_HELP)
    .action(async (args: string[], opts: CommonOptions) => {
      // `massflow run experiments/NAME.yaml` runs the experiment, as `massflow sweep` does.
      if (args.length === 0 || !isExperimentFile(layoutFrom(opts).root, args[0]!)) {
        setCode(await (await import('./commands/run.js')).runCommand(args, opts, term, argv));
        return;
      }
      if (args.length > 1) throw new UsageError(`an experiment runs whole trials; stage names (${args.slice(1).join(', ')}) cannot follow ${args[0]}`);
      setCode(await (await import('./commands/sweep.js')).sweepCommand(args[0]!, opts, term, process.argv.slice(2)));
    });

  common(program.command('check')
    .description('Check pipelines and experiments for every error at once, running nothing (exit 0 or 2); for CI and pre-commit.')
    .argument('[files...]', 'pipeline or experiment files (default: massflow.yaml or the only file in pipelines/)')
    .option('--json', 'print the diagnostics as JSON (file, line, column, end, message, related locations)'))
    .action(async (files: string[], opts) => setCode(await (await import('./commands/check.js')).checkCommand(files, opts, term)));

  common(program.command('status')
    .description('List each stage as fresh, cached (restorable) or stale, with the reason.')
    .argument('[pipeline-and-stages...]'))
    .action(async (args: string[], opts) => setCode(await (await import('./commands/status.js')).statusCommand(args, opts, term)));

  common(program.command('why')
    .description("Show, field by field, how a stage's fingerprint differs from its last run.")
    .argument('<pipeline-and-stages...>', '[PIPELINE] STAGE...'))
    .action(async (args: string[], opts) => setCode(await (await import('./commands/status.js')).whyCommand(args, opts, term)));

  common(program.command('gc')
    .description('Remove cached outputs that neither the current state nor recent runs reference.')
    .option('--keep-runs <n>', 'keep what the last N runs reference', '10')
    .option('-n, --dry-run', 'only say what would be removed')
    .option('--min-age <seconds>', 'never remove objects younger than this: a concurrent run may be committing them', '3600'))
    .action(async (opts) => setCode(await (await import('./commands/gc.js')).gcCommand(opts, term)));

  program.command('schema')
    .description('Print the JSON Schema of pipeline files, or of experiment files (also in schema/pipeline.schema.json and schema/experiment.schema.json).')
    .addArgument(new Argument('[kind]', 'which files').choices(['pipeline', 'experiment']).default('pipeline'))
    .action(async (kind: 'pipeline' | 'experiment') => {
      term.out.write(kind === 'experiment' ? (await import('../sweep/schema.js')).experimentJsonSchema() : (await import('../pipeline/schema.js')).pipelineJsonSchema());
      setCode(EXIT.ok);
    });

  for (const add of [addExperimentCommands, addTrackingCommands, addProjectCommands, addRemoteCommands]) add(program, term, setCode, common);
  return program;
}

export async function main(argv: string[], term: Terminal = processTerminal()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(term, argv, (c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof DiagnosticsError) { printDiagnostics(term, e); return EXIT.usage; }
    if (e instanceof UsageError) { term.err.write(`${term.style.red('error')}: ${e.message}\n`); return EXIT.usage; }
    throw e;
  }
}
