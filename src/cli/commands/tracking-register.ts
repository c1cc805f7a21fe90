// Registers the tracking commands (sync, mlflow, trace); the implementations load on use.
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
  common(program.command('trace')
    .description("A run's timeline: each stage's slot, start, wall time, CPU time and peak RSS, cached ones marked; written as Chrome trace JSON for Perfetto.")
    .argument('[run]', 'run id (default: the latest run)')
    .option('-o, --output <file>', 'write the trace JSON here (default: runs/RUN/trace.json)')
    .option('--png <file>', 'also draw the timeline as a PNG'))
    .action(async (run: string | undefined, opts) => setCode(await (await import('./trace.js')).traceCommand(run, opts, term)));
};
