// The S3 adapter (AWS S3, MinIO, Ceph RGW, moto, any S3-compatible store) over the AWS SDK.
// Credentials come only from the SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, ~/.aws/credentials, instance roles); massflow never reads, stores or prints them.
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { RemoteConfig } from './config.js';
import { RemoteError, type PutBody, type PutResult, type RemoteStore } from './store.js';

// A dead endpoint must fail in seconds, not hang a run; a slow large transfer may take minutes.
const CONNECT_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 300_000;

export class S3Remote implements RemoteStore {
  readonly url: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(cfg: RemoteConfig, maxSockets = 64) {
    this.url = cfg.url;
    this.bucket = cfg.bucket;
    this.prefix = cfg.prefix ? `${cfg.prefix}/` : '';
    const envEndpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
    // The SDK warns on stderr that its releases after January 2027 need Node 22; the pinned one
    // supports Node 20, and the warning would land in the middle of a run's output.
    const quiet = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
    const hadQuiet = quiet in process.env;
    process.env[quiet] = 'true';
    this.client = new S3Client({
      region: cfg.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
      // A custom endpoint (a lab's MinIO/Ceph, a test server on 127.0.0.1) rarely has wildcard DNS.
      forcePathStyle: Boolean(cfg.endpoint ?? envEndpoint),
      maxAttempts: 3,
      // Objects are verified against their SHA-256 on both sides; the SDK's extra CRC is redundant.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, httpAgent: { maxSockets }, httpsAgent: { maxSockets } },
    });
    if (!hadQuiet) delete process.env[quiet];
  }

  private key(k: string) { return this.prefix + k; }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return true;
    } catch (e) {
      if (status(e) === 404) return false;
      throw this.wrap(e, `HEAD ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ContinuationToken: token }));
      } catch (e) { throw this.wrap(e, `LIST ${prefix}`); }
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key.slice(this.prefix.length);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async get(key: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return r.Body as Readable;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw this.wrap(e, `GET ${key}`);
    }
  }

  async put(key: string, body: PutBody, opts: { sha256?: string; ifAbsent?: boolean } = {}): Promise<PutResult> {
    // A body stream that fails (a read error, a damaged object refused before its last chunk) must
    // end the request: the server would otherwise wait for the bytes still due, and so would we.
    const abort = new AbortController();
    let bodyError: Error | undefined;
    if (body.kind === 'stream') body.stream.once('error', (e) => { bodyError = e; abort.abort(); });
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key(key),
        Body: body.kind === 'bytes' ? body.data : body.stream,
        ...(body.kind === 'stream' ? { ContentLength: body.size } : {}),
        // The server recomputes it and refuses a body that arrived different.
        ...(opts.sha256 ? { ChecksumSHA256: Buffer.from(opts.sha256, 'hex').toString('base64') } : {}),
        ...(opts.ifAbsent ? { IfNoneMatch: '*' } : {}),
      }), { abortSignal: abort.signal });
      return 'written';
    } catch (e) {
      if (bodyError) throw bodyError;
      // 412: the key exists (conditional write lost the race); 409: a concurrent conditional write.
      if (opts.ifAbsent && (status(e) === 412 || status(e) === 409)) return 'exists';
      throw this.wrap(e, `PUT ${key}`);
    }
  }

  close() { this.client.destroy(); }

  private wrap(e: unknown, what: string): RemoteError {
    const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const code = err.code ?? (e as { cause?: { code?: string } }).cause?.code;
    const net = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'TimeoutError'].includes(code ?? err.name ?? '');
    const detail = net ? `${code ?? err.name} (${this.url} unreachable)` : `${err.name ?? 'error'}${status(e) ? ` ${status(e)}` : ''}: ${err.message ?? String(e)}`;
    return new RemoteError(`${what}: ${detail}`, net);
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
