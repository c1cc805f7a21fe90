// `massflow run [PIPELINE] [STAGE...]`
import { LocalExecutor } from '../../exec/local.js';
import type { Executor } from '../../exec/executor.js';
import { analyze } from '../../project/analyze.js';
import { newRunId } from '../../record/run-id.js';
import { RunView } from '../../report/run-view.js';
import { runPipeline } from '../../run/run-pipeline.js';
import type { EventSink } from '../../report/events.js';
import type { Pipeline } from '../../spec/model.js';
import type { Project } from '../../project/analyze.js';
import { loadForCommand, select, splitArgs, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export interface RunCommandOptions extends CommonOptions {
  jobs?: string;
  gpus?: string;
  keepGoing?: boolean;
  force?: boolean;
  executor?: string;
}

/** Extra event sinks (e.g. the tracker) and executors registered by other modules. */
export interface RunHooks {
  sinks?: (ctx: { project: Project; pipeline: Pipeline; runId: string }) => Promise<{ sink: EventSink; close(): Promise<string[]> } | undefined>;
  executors?: Record<string, (project: Project, pipeline: Pipeline) => Promise<Executor>>;
}

export const runHooks: RunHooks = {};

export function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a non-negative integer, got '${v}'`);
  return n;
}

export async function runCommand(args: string[], opts: RunCommandOptions, term: Terminal, argv: string[]): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args);
  const { project, pipeline, overrides } = loadForCommand(opts, spec);
  const selected = select(pipeline, stages);
  const jobs = positiveInt(opts.jobs, '--jobs');
  if (jobs === 0) throw new UsageError('--jobs must be at least 1');
  const executorName = opts.executor ?? pipeline.executor;
  let executor: Executor;
  if (executorName === 'local') executor = new LocalExecutor();
  else {
    const make = runHooks.executors?.[executorName];
    if (!make) throw new UsageError(`unknown executor '${executorName}' (known: local${Object.keys(runHooks.executors ?? {}).map((k) => `, ${k}`).join('')})`);
    executor = await make(project, pipeline);
  }
  const analysis = await analyze(project, pipeline, selected, Boolean(opts.force));
  const runId = newRunId();
  const view = new RunView(term.out, term.style, term.live);
  view.setLogsDir(`runs/${runId}/logs`);
  const extra = await runHooks.sinks?.({ project, pipeline, runId });

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
    const result = await runPipeline(project, pipeline, analysis, executor, {
      runId,
      jobs,
      gpus: positiveInt(opts.gpus, '--gpus'),
      keepGoing: Boolean(opts.keepGoing),
      force: Boolean(opts.force),
      argv,
      targets: stages,
      overrides,
    }, [view.sink, ...(extra ? [extra.sink] : [])], abort.signal);
    if (extra) for (const line of await extra.close()) term.out.write(line + '\n');
    return result.status === 'succeeded' ? EXIT.ok : result.status === 'cancelled' ? EXIT.cancelled : EXIT.stageFailed;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
