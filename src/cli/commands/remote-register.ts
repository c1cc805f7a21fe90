// Registers `push` and `pull`; the implementations load on use.
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
};
