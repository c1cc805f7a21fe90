// Registers the commands that set up a machine and a project: setup, doctor, init.
import type { AddCommands } from '../registry.js';

export const addProjectCommands: AddCommands = (program, term, setCode, common) => {
  program.command('setup')
    .description('Install the optional heavy pieces into the per-user cache shared by all projects: the native TensorFlow backend and the pinned MLflow server. Idempotent and resumable.')
    .option('--native', 'only the native TensorFlow backend (from the tensorflow-cpu wheel on PyPI)')
    .option('--mlflow', 'only the MLflow server virtualenv')
    .option('--mlflow-venv <dir>', "put the MLflow virtualenv here instead (e.g. a clone's .venv-mlflow)")
    .action(async (opts) => setCode(await (await import('./setup.js')).setupCommand(opts, term)));
  common(program.command('doctor')
    .description('Say which optional pieces are here (tensor backend, MLflow, Slurm, S3 credentials, GPUs), what each missing one costs, and the command that adds it.'))
    .action(async (opts) => setCode(await (await import('./doctor.js')).doctorCommand(opts, term)));
  program.command('init')
    .description('Start a project: a massflow.yaml, an example stage and .gitignore lines (or, with --example, a whole example project in a new folder).')
    .argument('[dir]', 'the project folder (default: the current directory)')
    .option('--example <name>', 'write the example project instead: cluster-mass (the paper pipeline)')
    .action(async (dir: string | undefined, opts) => setCode(await (await import('./init.js')).initCommand(dir, opts, term)));
  common(program.command('import')
    .description('Write the massflow pipeline equivalent to a dvc.yaml, with comments wherever the meaning changed.')
    .argument('<dvc.yaml>', 'the DVC pipeline file')
    .option('-o, --output <file>', 'write it here (e.g. pipelines/NAME.yaml) instead of printing it')
    .option('-f, --force', 'overwrite the output file'))
    .action(async (file: string, opts) => setCode(await (await import('./import.js')).importCommand(file, opts, term)));
};
