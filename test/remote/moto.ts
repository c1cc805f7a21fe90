// A real S3-compatible server for the remote-cache tests: moto's S3 server from .venv-moto
// (scripts/moto-venv.sh), started on 127.0.0.1 on a free port. In CI a missing server fails the
// tests; elsewhere they skip, saying how to install it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO } from '../e2e/rig.js';

export const MOTO_VERSION = '5.2.6';
const PYTHON = join(REPO, '.venv-moto', 'bin', 'python');

export const motoInstalled = () => existsSync(PYTHON);
/** Why the S3 tests skip here (never in CI, where they fail instead). */
export const MOTO_MISSING = 'moto is not installed: run scripts/moto-venv.sh';
export const requireMoto = () => {
  if (!motoInstalled() && process.env['CI']) throw new Error(`${MOTO_MISSING} (.ci/run does)`);
  return motoInstalled();
};

/** Test credentials: anything works with moto; the secret is looked for in everything massflow writes. */
export const SECRET = 'secret-key-that-must-not-leak-7f3a';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
    s.on('error', reject);
  });
}

// The SDK's notice that its 2027 releases need Node 22 would clutter the test output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export class Moto {
  private proc: ChildProcess | undefined;
  readonly client: S3Client;

  private constructor(readonly port: number) {
    this.client = new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: SECRET } });
  }

  get endpoint() { return `http://127.0.0.1:${this.port}`; }

  /** The server's process id while it runs (the benchmark reads its CPU time). */
  get pid(): number | undefined { return this.proc?.pid; }

  /** What a massflow process needs to reach it. */
  env(): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: this.endpoint };
  }

  static async start(port?: number): Promise<Moto> {
    const m = new Moto(port ?? (await freePort()));
    await m.up();
    return m;
  }

  async up(): Promise<void> {
    this.proc = spawn(PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(this.port)], { stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try { if ((await fetch(`${this.endpoint}/moto-api/`)).status < 500) return; } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`moto did not answer on ${this.endpoint} within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
  }

  async bucket(name: string) { await this.client.send(new CreateBucketCommand({ Bucket: name })); }

  async keys(bucket: string, prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) out.push(o.Key!);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async put(bucket: string, key: string, body: string | Uint8Array) { await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })); }
  async delete(bucket: string, key: string) { await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })); }
}
