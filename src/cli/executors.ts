// Where stages run, by the name a command line or spec gives (`--executor`, `executor:`): every
// command that runs stages picks its executor here. The Slurm executor's module loads only when a
// run asks for it; without the Slurm client programs on PATH the run stops with a usage error.
import type { Executor } from '../exec/executor.js';
import { LocalExecutor } from '../exec/local.js';
import { onPath, REQUIRED_TOOLS } from '../exec/slurm/commands.js';
import type { SlurmTiming } from '../exec/slurm/executor.js';
import type { Project } from '../project/open.js';
import type { Pipeline } from '../pipeline/model.js';
import type { RunArgs } from '../exec/slurm/unshared-script.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import { DiagnosticsError } from './common.js';
import { UsageError } from './exit-codes.js';

/** `run`: the params `massflow run` was given, and where its warnings go; other commands (sweep, rerun) pass none. */
export type MakeExecutor = (project: Project, pipeline: Pipeline, run?: RunArgs & { warn(warnings: Diagnostic[]): void }) => Promise<Executor>;

const EXECUTORS: Record<string, MakeExecutor> = {
  local: async () => new LocalExecutor(),
  slurm: async (project, pipeline, run) => {
    const missing = REQUIRED_TOOLS.filter((t) => !onPath(t));
    if (missing.length) {
      throw new UsageError(
        `the slurm executor needs the Slurm client programs, and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not on PATH. ` +
        'Run massflow on a login node of the cluster (or load its slurm module), or use --executor local.',
      );
    }
    const { DEFAULT_TIMING, SlurmExecutor } = await import('../exec/slurm/executor.js');
    const timing = timingFromEnv(DEFAULT_TIMING);
    if (pipeline.slurm.shared_fs !== false) return SlurmExecutor.forProject(project, pipeline, timing);
    const [{ unsharedSetup, gitProbe }, { UnsharedSlurmExecutor }] = await Promise.all([import('../exec/slurm/unshared-config.js'), import('../exec/slurm/unshared-executor.js')]);
    const choice = unsharedSetup(pipeline, project.remote?.config, run ? 'run' : 'other', gitProbe(project.layout.root));
    if (!choice.ok) throw new DiagnosticsError(choice.diagnostics);
    if (choice.warnings.length) run?.warn(choice.warnings);
    return new UnsharedSlurmExecutor(project, pipeline.slurm, choice.setup, run ?? { overrides: [], profiles: [] }, {
      queuePollMs: timing.queuePollMs, lostGraceMs: timing.markerGraceMs, pendingLimitMs: ms('MASSFLOW_SLURM_PENDING_LIMIT_MS', DEFAULT_PENDING_LIMIT_MS),
    });
  },
};

/** The factory of the named executor; a name no executor has is a usage error, raised before any work. */
export function executorNamed(name: string): MakeExecutor {
  const make = EXECUTORS[name];
  if (!make) throw new UsageError(`unknown executor '${name}' (known: ${Object.keys(EXECUTORS).join(', ')})`);
  return make;
}

/** A job pending for a day for anything but its upstream jobs (a partition that cannot hold it, a reservation that never comes) is reported. */
const DEFAULT_PENDING_LIMIT_MS = 24 * 3600_000;

/** A duration in milliseconds from the environment, for tuning variables. */
function ms(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a number of milliseconds, got '${raw}'`);
  return v;
}

/** Poll intervals, overridable for clusters that ask for gentler polling (and for fast tests). */
function timingFromEnv(defaults: SlurmTiming): SlurmTiming {
  return {
    filePollMs: ms('MASSFLOW_SLURM_FILE_POLL_MS', defaults.filePollMs),
    queuePollMs: ms('MASSFLOW_SLURM_QUEUE_POLL_MS', defaults.queuePollMs),
    markerGraceMs: ms('MASSFLOW_SLURM_MARKER_GRACE_MS', defaults.markerGraceMs),
  };
}
