// Which remote cache a command uses: `--remote URL` (which sets MASSFLOW_REMOTE), else the
// MASSFLOW_REMOTE variable, else the spec's `remote:` block. The spec's endpoint, region, push mode
// and parallelism apply whichever source named the URL. No credential is ever part of it.
import { Type, type Static } from '@sinclair/typebox';

export const REMOTE_ENV = 'MASSFLOW_REMOTE';
const URL_PATTERN = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\\s]*)?$';

const RemoteBlock = Type.Object(
  {
    url: Type.String({ pattern: URL_PATTERN, description: 'Bucket and key prefix: s3://BUCKET/PREFIX. --remote and MASSFLOW_REMOTE take precedence.' }),
    endpoint: Type.Optional(Type.String({
      pattern: '^https?://[^@/\\s]+(/[^@\\s]*)?$',
      description: 'S3-compatible endpoint (MinIO, Ceph RGW, ...); default AWS S3, or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. No credentials here: they come from the AWS variables and files.',
    })),
    region: Type.Optional(Type.String({ minLength: 1, description: 'Signing region (default: AWS_REGION, else us-east-1).' })),
    push: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('manual')], { description: 'auto: a run pushes what its stages made when it ends; manual (default): only `massflow push`.' })),
    jobs: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Transfers at once (default 32).' })),
  },
  { additionalProperties: false },
);

/** The `remote:` block of a pipeline spec: a URL, or the URL with settings. */
export const RemoteSpecSchema = Type.Union([Type.String({ pattern: URL_PATTERN }), RemoteBlock], {
  description: 'Shared cache on an S3-compatible object store (see docs/remote.md).',
});
export type RemoteSpec = Static<typeof RemoteSpecSchema>;

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
  const normalised = `s3://${parsed.bucket}${parsed.prefix ? `/${parsed.prefix}` : ''}`;
  return {
    ok: true,
    config: { url: normalised, ...parsed, endpoint: block?.endpoint, region: block?.region, push: block?.push ?? 'manual', jobs: block?.jobs ?? DEFAULT_JOBS },
  };
}
