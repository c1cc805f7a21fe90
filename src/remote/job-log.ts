// A Slurm job's log on the remote (slurm.shared_fs: false): the job sends it under a run-scoped key
// (`logs/<run>/<stage>.log`) and the runner on the login node reads it back. The job's AWS secrets
// are masked before the log leaves the node: a stage that prints its environment must not put
// them on the remote, in the run's log or on the screen.
import { Redactor } from '../track/secret.js';
import type { RemoteStore } from './store.js';
import { readAll } from './pool.js';

/** A log is kept to its last 4 MiB: the tail is what a failure shows, and a runaway stage must not fill the remote. */
export const MAX_JOB_LOG = 4 << 20;

const SECRET_VARS = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/** The text with the values of the AWS secret variables in `env` replaced by `***`. */
export function maskAwsSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return new Redactor(SECRET_VARS.map((name) => env[name])).redact(text);
}

export async function putJobLog(store: RemoteStore, key: string, log: Buffer, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const tail = log.length > MAX_JOB_LOG ? log.subarray(log.length - MAX_JOB_LOG) : log;
  await store.put(key, { kind: 'bytes', data: Buffer.from(maskAwsSecrets(tail.toString('utf8'), env), 'utf8') });
}

/** The log's text, or undefined when the job sent none (it never started, or could not reach the remote). */
export async function getJobLog(store: RemoteStore, key: string): Promise<string | undefined> {
  const body = await store.get(key);
  return body ? (await readAll(body, MAX_JOB_LOG + (64 << 10))).toString('utf8') : undefined;
}
