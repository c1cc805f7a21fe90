// `massflow job-log KEY FILE` (not listed in the help): the last step of a Slurm job on a node
// that does not share the project directory, which sends the job's log to the remote named by
// MASSFLOW_REMOTE for the runner on the login node to show (src/exec/slurm/unshared-executor.ts).
import { readFile } from 'node:fs/promises';
import { chooseRemote } from '../../remote/config.js';
import { putJobLog } from '../../remote/job-log.js';
import { S3Remote } from '../../remote/s3.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export async function jobLogCommand(key: string, file: string, opts: { endpoint?: string; region?: string }, term: Terminal): Promise<ExitCode> {
  const choice = chooseRemote({ url: '', ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.region ? { region: opts.region } : {}) });
  if (!choice.ok) throw new UsageError(choice.message);
  if (!choice.config) throw new UsageError('job-log: no remote (MASSFLOW_REMOTE is not set)');
  const log = await readFile(file).catch((e: Error) => { throw new UsageError(`job-log: cannot read ${file}: ${e.message}`); });
  const store = new S3Remote(choice.config);
  try {
    await putJobLog(store, key, log);
    return EXIT.ok;
  } catch (e) {
    term.err.write(`massflow: the job's log did not reach ${choice.config.url}: ${(e as Error).message}\n`);
    return EXIT.stageFailed;
  } finally {
    store.close();
  }
}
