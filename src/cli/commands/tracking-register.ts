// Registers the tracking commands; the implementations load on use.
import type { AddCommands } from '../registry.js';

export const addTrackingCommands: AddCommands = (program, term, setCode, common) => {
  common(program.command('sync')
    .description('Deliver runs recorded while no tracking server was reachable; running it twice sends nothing new.')
    .argument('[runs...]', 'run ids (default: every run with pending records)')
    .option('--tracking-uri <uri>', 'MLflow server (default: MLFLOW_TRACKING_URI, else the one `massflow mlflow up` started)')
    .option('--experiment <name>', 'MLflow experiment for runs that have none yet'))
    .action(async (runs: string[], opts) => setCode(await (await import('./tracking.js')).syncCommand(runs, opts, term)));
  common(program.command('mlflow')
    .description('Start (up) or stop (down) the project-local MLflow server: 127.0.0.1, sqlite store and artifacts under .mlflow/.')
    .argument('<action>', 'up or down')
    .option('--port <n>', 'port for `up` (default 5000)'))
    .action(async (action: string, opts) => setCode(await (await import('./tracking.js')).mlflowCommand(action, opts, term)));
};
