// The `remote:` block of a pipeline spec (the shared cache, src/remote/), embedded in the pipeline's JSON Schema.
import { Type, type Static } from '@sinclair/typebox';
export const URL_PATTERN = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\\s]*)?$';

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

