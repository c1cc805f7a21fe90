// Registers `push`, `pull` and the Slurm jobs' `job-log`; the implementations load on use.
import type { AddCommands } from '../registry.js';

export const addRemoteCommands: AddCommands = (program, term, setCode, common) => {
  common(program.command('push')
    .description('Send cached outputs and their fingerprint entries to the remote cache (only what it lacks).')
    .argument('[pipeline-runs-stages...]', '[PIPELINE] then run ids and/or stage names (default: every stage at its current fingerprint)')
    .option('--all', 'every entry in the local cache'))
    .action(async (args: string[], opts) => setCode(await (await import('./remote.js')).pushCommand(args, opts, term)));
  common(program.command('pull')
    .description('Fetch the cached outputs of the named stages (default: all) from the remote cache, verifying every object.')
    .argument('[pipeline-and-stages...]', '[PIPELINE] then stage names'))
    .action(async (args: string[], opts) => setCode(await (await import('./remote.js')).pullCommand(args, opts, term)));
  // The last step of a Slurm job that runs in a working copy of its own (slurm.shared_fs: false).
  program.command('job-log', { hidden: true })
    .description("Send a Slurm job's log to the remote named by MASSFLOW_REMOTE.")
    .argument('<key>').argument('<file>')
    .option('--endpoint <url>').option('--region <name>')
    .action(async (key: string, file: string, opts: { endpoint?: string; region?: string }) => setCode(await (await import('./job-log.js')).jobLogCommand(key, file, opts, term)));
};
