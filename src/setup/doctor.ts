// `massflow doctor`: what this machine has of the optional pieces, what each missing one costs, and
// the command that adds it. gatherFacts() looks (files, PATH, short probes); assess() is pure.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { MASSFLOW_VERSION, PACKAGE_ROOT } from '../core/package.js';
import { userCacheDir } from '../core/user-cache.js';
import { describeBackend, probe, type BackendInfo, type BackendResult } from '../ml/backend-describe.js';
import { MLFLOW_VERSION, findVenv, type FoundVenv } from '../track/server/venv.js';
import { readBootId } from '../cache/write-back.js';

export interface Facts {
  readonly massflow: { version: string; root: string; node: string; cache: string };
  readonly backends: Record<'native-gpu' | 'native' | 'wasm', BackendResult<BackendInfo>>;
  readonly chosen: BackendResult<BackendInfo>;
  readonly trackingUri: string | undefined;
  readonly venv: FoundVenv;
  readonly python: string | undefined;
  /** `sinfo` output (partitions and node states), or why there is none. */
  readonly slurm: { ok: true; summary: string } | { ok: false; why: string };
  /** Where S3 credentials come from, never their values. */
  readonly s3: string | undefined;
  readonly gpus: string[];
  /** How cache objects reach the disk (cache/write-back.ts). */
  readonly cacheWrites: 'boot-marker' | 'fsync-asked' | 'fsync-no-boot-id';
}

export type CheckStatus = 'ok' | 'missing' | 'info';
export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What is lost without it. */
  readonly cost?: string;
  /** The command that adds it. */
  readonly fix?: string;
}

async function firstLine(cmd: string, args: string[]): Promise<{ ok: true; out: string } | { ok: false; why: string }> {
  const r = await execa(cmd, args, { reject: false, timeout: 5000, stdin: 'ignore' });
  if (r.failed && (r as { code?: string }).code === 'ENOENT') return { ok: false, why: `${cmd} is not on PATH` };
  if (r.timedOut) return { ok: false, why: `${cmd} did not answer within 5 s` };
  if (r.exitCode !== 0) return { ok: false, why: `${cmd} failed: ${String(r.stderr).trim().split('\n')[0] ?? ''}` };
  return { ok: true, out: String(r.stdout).trim() };
}

function s3Source(env: NodeJS.ProcessEnv): string | undefined {
  if (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) return 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  if (env['AWS_PROFILE']) return `AWS_PROFILE=${env['AWS_PROFILE']}`;
  const file = env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homedir(), '.aws', 'credentials');
  return existsSync(file) ? file : undefined;
}

export async function gatherFacts(projectDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Facts> {
  const [venv, python, sinfo, smi] = await Promise.all([
    findVenv(projectDir, env),
    firstLine(env['MASSFLOW_PYTHON'] ?? 'python3', ['--version']),
    firstLine('sinfo', ['-h', '-o', '%P %a %D %T']),
    firstLine('nvidia-smi', ['-L']),
  ]);
  return {
    massflow: { version: MASSFLOW_VERSION, root: PACKAGE_ROOT, node: process.version, cache: userCacheDir(env) },
    backends: { 'native-gpu': probe('native-gpu'), native: probe('native'), wasm: probe('wasm') },
    chosen: describeBackend(env),
    trackingUri: env['MLFLOW_TRACKING_URI'],
    venv,
    python: python.ok ? python.out : undefined,
    slurm: sinfo.ok ? (sinfo.out ? { ok: true, summary: sinfo.out.split('\n').join('; ') } : { ok: false, why: 'sinfo lists no partition' }) : { ok: false, why: sinfo.why },
    s3: s3Source(env),
    gpus: smi.ok ? smi.out.split('\n').filter((l) => l.startsWith('GPU ')) : [],
    cacheWrites: readBootId() === undefined ? 'fsync-no-boot-id' : env['MASSFLOW_CACHE_FSYNC'] === '1' ? 'fsync-asked' : 'boot-marker',
  };
}

/** Training speed of each backend, relative to wasm (docs/ml.md has the measured figures). */
export const SPEED_CLASS = {
  'native-gpu': 'fastest: GPU',
  native: 'fast: ~3.5x wasm on CPU',
  wasm: 'baseline: WebAssembly SIMD',
} as const;

export function assess(f: Facts): Check[] {
  const checks: Check[] = [{
    name: 'massflow',
    status: 'info',
    detail: `${f.massflow.version} at ${f.massflow.root}, Node ${f.massflow.node}; per-user cache ${f.massflow.cache}`,
  }];
  const chosen = f.chosen.ok ? `${f.chosen.value.name} (${f.chosen.value.version})` : f.chosen.error;
  checks.push({ name: 'tensor backend', status: f.chosen.ok ? 'ok' : 'missing', detail: `stages use ${chosen}` });
  for (const name of ['native-gpu', 'native', 'wasm'] as const) {
    const p = f.backends[name];
    const base = { name: `  ${name}`, detail: `${SPEED_CLASS[name]}; ${p.ok ? p.value.version : p.error}` };
    if (p.ok) checks.push({ ...base, status: 'ok' });
    else if (name === 'native') checks.push({ ...base, status: 'missing', cost: 'training runs on wasm, ~3.5x slower', fix: 'massflow setup --native' });
    else if (name === 'native-gpu' && !f.gpus.length) checks.push({ ...base, status: 'info', detail: `${SPEED_CLASS[name]}; not needed without a GPU` });
    else if (name === 'native-gpu') checks.push({ ...base, status: 'missing', cost: 'the GPU is not used for training', fix: 'npm install -g @tensorflow/tfjs-node-gpu (needs CUDA 11.2 and cuDNN 8.1)' });
    else checks.push({ ...base, status: 'missing', cost: 'no backend without native TensorFlow', fix: 'reinstall massflow (its wasm backend is a dependency)' });
  }
  if (f.trackingUri) {
    checks.push({ name: 'MLflow', status: 'ok', detail: `MLFLOW_TRACKING_URI=${redactUri(f.trackingUri)}: runs track there, no local server needed` });
  } else if (f.venv.version === MLFLOW_VERSION) {
    checks.push({ name: 'MLflow', status: 'ok', detail: `mlflow ${f.venv.version} in ${f.venv.dir} (${f.venv.where === 'user' ? 'per-user, shared by projects' : "this project's"}); start it with \`massflow mlflow up\`` });
  } else {
    checks.push({
      name: 'MLflow',
      status: 'missing',
      detail: `no virtualenv with mlflow ${MLFLOW_VERSION}${f.python ? ` (${f.python} found)` : ' and no python3 on PATH'}`,
      cost: 'no MLflow UI; runs are kept under runs/ and `massflow sync` delivers them later',
      fix: f.python ? 'massflow setup --mlflow (or set MLFLOW_TRACKING_URI to a server)' : 'install Python >= 3.10, then massflow setup --mlflow',
    });
  }
  checks.push(f.slurm.ok
    ? { name: 'Slurm', status: 'ok', detail: `partitions: ${f.slurm.summary}; \`--executor slurm\` runs each stage as a job` }
    : { name: 'Slurm', status: 'missing', detail: f.slurm.why, cost: '`--executor slurm` is unavailable; stages run on this machine', fix: "use a machine with Slurm's client tools (sbatch, sinfo); docs/slurm.md" });
  checks.push(f.s3
    ? { name: 'S3 credentials', status: 'ok', detail: `from ${f.s3}` }
    : {
      name: 'S3 credentials',
      status: 'missing',
      detail: 'none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials (an instance role or SSO does not show here)',
      cost: "the lab's remote cache (`remote: s3://...`, massflow push/pull; docs/remote.md) is out of reach; results are computed and cached on this machine only",
      fix: 'export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (and AWS_ENDPOINT_URL for MinIO or Ceph)',
    });
  checks.push({
    name: 'cache writes',
    status: 'info',
    detail: f.cacheWrites === 'boot-marker'
      ? 'objects are not fsynced one by one; after a crash of the machine the first command checks what was written since (MASSFLOW_CACHE_FSYNC=1 fsyncs each)'
      : f.cacheWrites === 'fsync-asked' ? 'each object is fsynced before it gets its name (MASSFLOW_CACHE_FSYNC=1)' : 'each object is fsynced before it gets its name (no boot id to read on this system)',
  });
  checks.push(f.gpus.length
    ? { name: 'GPUs', status: 'ok', detail: `${f.gpus.length}: ${f.gpus.map((g) => g.replace(/ \(UUID:.*\)$/, '')).join('; ')}; give stages slots with --gpus ${f.gpus.length}` }
    : { name: 'GPUs', status: 'missing', detail: 'nvidia-smi lists none', cost: 'stages with resources.gpu > 0 cannot run here; training uses the CPU', fix: 'run on a GPU node (e.g. --executor slurm with a GPU partition)' });
  return checks;
}

/** A tracking URI without user:password@. */
function redactUri(uri: string): string {
  return uri.replace(/\/\/[^/@]*@/, '//***@');
}
