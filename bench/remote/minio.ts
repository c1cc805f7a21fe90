// MinIO, the S3-compatible server labs run on their own machines, for the remote-cache benchmark:
// built by scripts/minio-bench.sh, started on 127.0.0.1 on free ports with its data in a temp
// folder. Same surface as the tests' moto wrapper (test/remote/moto.ts), so the benchmark takes
// either. moto is a Python server whose own CPU per byte bounds both tools on a small machine; a
// Go server shows what the clients themselves cost.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { REPO } from '../../test/e2e/rig.js';

// The SDK's notice that its 2027 releases need Node 22 would clutter the benchmark's output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const USER = 'massflow-bench';
const PASSWORD = 'bench-password-not-a-secret';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
    s.on('error', reject);
  });
}

export class Minio {
  private proc: ChildProcess | undefined;
  private readonly client: S3Client;

  private constructor(readonly port: number, private readonly dataDir: string) {
    this.client = new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: { accessKeyId: USER, secretAccessKey: PASSWORD } });
  }

  get endpoint() { return `http://127.0.0.1:${this.port}`; }
  get pid(): number | undefined { return this.proc?.pid; }

  env(): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: USER, AWS_SECRET_ACCESS_KEY: PASSWORD, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: this.endpoint };
  }

  static async start(): Promise<Minio> {
    const bin = execFileSync('bash', [join(REPO, 'scripts/minio-bench.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const m = new Minio(await freePort(), mkdtempSync(join(tmpdir(), 'massflow-bench-minio-')));
    const consolePort = await freePort();
    m.proc = spawn(bin, ['server', m.dataDir, '--address', `127.0.0.1:${m.port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
      stdio: 'ignore',
      env: { ...process.env, MINIO_ROOT_USER: USER, MINIO_ROOT_PASSWORD: PASSWORD, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try { if ((await fetch(`${m.endpoint}/minio/health/ready`)).status === 200) return m; } catch { /* not up yet */ }
      if (m.proc.exitCode !== null) throw new Error(`minio exited with ${m.proc.exitCode} while starting`);
      if (Date.now() > deadline) throw new Error(`minio did not answer on ${m.endpoint} within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async bucket(name: string) { await this.client.send(new CreateBucketCommand({ Bucket: name })); }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null) await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
