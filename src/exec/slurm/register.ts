// Makes `--executor slurm` and `executor: slurm` available to the commands that run stages. It
// loads nothing heavy up front: the run hooks are filled in just before such a command's action,
// and the executor module only when a run asks for Slurm. Without the Slurm client programs on
// PATH the run stops before planning with a usage error (exit 2).
import type { Command } from 'commander';
import { extraCommands } from '../../cli/registry.js';
import { UsageError } from '../../cli/exit-codes.js';
import { onPath, REQUIRED_TOOLS } from './commands.js';
import type { SlurmTiming } from './executor.js';

extraCommands.push((program) => {
  program.hook('preAction', async (_program: Command, action: Command) => {
    // Only commands that can run stages offer --executor; others (status, gc) stay light.
    if (!action.options.some((o) => o.long === '--executor')) return;
    const { runHooks } = await import('../../cli/commands/run.js');
    (runHooks.executors ??= {})['slurm'] = async (project, pipeline) => {
      const missing = REQUIRED_TOOLS.filter((t) => !onPath(t));
      if (missing.length) {
        throw new UsageError(
          `the slurm executor needs the Slurm client programs, and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not on PATH. ` +
          'Run massflow on a login node of the cluster (or load its slurm module), or use --executor local.',
        );
      }
      const { DEFAULT_TIMING, SlurmExecutor } = await import('./executor.js');
      return SlurmExecutor.forProject(project, pipeline, timingFromEnv(DEFAULT_TIMING));
    };
  });
});

/** Poll intervals, overridable for clusters that ask for gentler polling (and for fast tests). */
function timingFromEnv(defaults: SlurmTiming): SlurmTiming {
  const ms = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a number of milliseconds, got '${raw}'`);
    return v;
  };
  return {
    filePollMs: ms('MASSFLOW_SLURM_FILE_POLL_MS', defaults.filePollMs),
    queuePollMs: ms('MASSFLOW_SLURM_QUEUE_POLL_MS', defaults.queuePollMs),
    markerGraceMs: ms('MASSFLOW_SLURM_MARKER_GRACE_MS', defaults.markerGraceMs),
  };
}
