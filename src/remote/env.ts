// The variable naming the remote cache, in a module of its own: the command line reads and sets it
// on every command, and must not load the remote's schema and client to do so.
export const REMOTE_ENV = 'MASSFLOW_REMOTE';
/** `auto` or `manual`: the push mode for one command, over the spec's `remote.push` (a Slurm job without a shared filesystem must push). */
export const REMOTE_PUSH_ENV = 'MASSFLOW_REMOTE_PUSH';
