// Which remote cache a command uses: `--remote URL` (which sets MASSFLOW_REMOTE), else the
// MASSFLOW_REMOTE variable, else the spec's `remote:` block. The spec's endpoint, region, push mode
// and parallelism apply whichever source named the URL. No credential is ever part of it.
import { URL_PATTERN, type RemoteSpec } from '../pipeline/remote-schema.js';

import { REMOTE_ENV, REMOTE_PUSH_ENV } from './env.js';

export { REMOTE_ENV, REMOTE_PUSH_ENV };

export interface RemoteConfig {
  url: string;
  bucket: string;
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  push: 'auto' | 'manual';
  jobs: number;
}

export const DEFAULT_JOBS = 32;

export type RemoteChoice = { ok: true; config: RemoteConfig | undefined } | { ok: false; message: string };

export function parseRemoteUrl(url: string): { bucket: string; prefix: string } | undefined {
  if (!new RegExp(URL_PATTERN).test(url)) return undefined;
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  return { bucket, prefix };
}

/** `none` (flag or variable) turns a spec's remote off for one command. */
export function chooseRemote(spec: RemoteSpec | undefined, env: NodeJS.ProcessEnv = process.env): RemoteChoice {
  const block = typeof spec === 'string' ? { url: spec } : spec;
  const fromEnv = env[REMOTE_ENV];
  if (fromEnv === 'none') return { ok: true, config: undefined };
  const url = fromEnv || block?.url;
  if (!url) return { ok: true, config: undefined };
  const parsed = parseRemoteUrl(url);
  if (!parsed) return { ok: false, message: `--remote / ${REMOTE_ENV}: '${url}' is not s3://BUCKET/PREFIX` };
  const pushEnv = env[REMOTE_PUSH_ENV];
  if (pushEnv && pushEnv !== 'auto' && pushEnv !== 'manual') return { ok: false, message: `${REMOTE_PUSH_ENV}: '${pushEnv}' is neither auto nor manual` };
  const push = pushEnv === 'auto' || pushEnv === 'manual' ? pushEnv : block?.push ?? 'manual';
  const normalised = `s3://${parsed.bucket}${parsed.prefix ? `/${parsed.prefix}` : ''}`;
  return {
    ok: true,
    config: { url: normalised, ...parsed, endpoint: block?.endpoint, region: block?.region, push, jobs: block?.jobs ?? DEFAULT_JOBS },
  };
}
