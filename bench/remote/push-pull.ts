// Remote cache push and pull against DVC's (`dvc push`/`dvc pull`, DVC with its S3 extra) to the
// same S3-compatible server (moto, or with --server minio a MinIO built by scripts/minio-bench.sh,
// on 127.0.0.1) in the same run: many small objects (default 10k
// files of ~100 bytes, which massflow sends in bundle parts and DVC one object each) and, with
// --big-mb, 16 MB files (single objects for both). Figures, not pass/fail: wall time, and on Linux
// the CPU time of each command and of the server during it (on a shared machine the CPU time is the
// steadier figure).
// With --paper, also the paper pipeline's own cache (pipelines/paper.yaml run on its defaults:
// many objects of every size), DVC given the same outputs (`dvc add data models reports`).
// --paper-src DIR: the src/ the paper projects' stage modules import (default the checkout's); with
// --paper-reuse, the src/ the kept project was computed with, so that it and the new clones agree.
// Usage: node --import tsx bench/remote/push-pull.ts [--files 10000] [--big-mb 0] [--paper [--paper-reuse] [--paper-src DIR]] [--no-dvc] [--server moto|minio]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Moto } from '../../test/remote/moto.js';
import { Minio } from './minio.js';
import { REPO } from '../../test/e2e/rig.js';

const DVC_VERSION = '3.66.1';
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const files = Number(arg('--files', '10000'));
const bigMb = Number(arg('--big-mb', '0'));
const withDvc = !args.includes('--no-dvc');
const paper = args.includes('--paper');
const serverKind = arg('--server', 'moto');
if (serverKind !== 'moto' && serverKind !== 'minio') throw new Error(`--server: moto or minio, not '${serverKind}'`);
const BIN = join(REPO, 'bin/massflow.js');

function dvcBin(): string | undefined {
  const venv = join(REPO, '.bench/dvc-s3-venv');
  const bin = join(venv, 'bin/dvc');
  if (!existsSync(bin)) {
    try {
      execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
      execFileSync(join(venv, 'bin/pip'), ['install', '-q', `dvc[s3]==${DVC_VERSION}`], { stdio: 'inherit' });
    } catch { return undefined; }
  }
  return existsSync(bin) ? bin : undefined;
}

/** CPU seconds (user + system) from /proc: of this process's finished children, or of a running process. */
function cpuSeconds(pid: number | 'self', children: boolean): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]];
    return (Number(u) + Number(s)) / 100;
  } catch { return undefined; }
}

interface Timing { wall: number; cpu: number | undefined; server: number | undefined }
let serverPid: number | undefined;

function timed(cmd: string, argv: string[], cwd: string, env: Record<string, string>, label?: string): Timing {
  // Each command starts with nothing of the previous one's left for the disk to write back: a tool
  // that leaves its writes in the page cache would otherwise hand that cost to whatever runs next.
  spawnSync('sync');
  const [c0, m0] = [cpuSeconds('self', true), serverPid && cpuSeconds(serverPid, false)];
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, CI: '1', NO_COLOR: '1', ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  const wall = (performance.now() - t) / 1000;
  const [c1, m1] = [cpuSeconds('self', true), serverPid && cpuSeconds(serverPid, false)];
  const timing = { wall, cpu: c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined, server: m0 && m1 ? m1 - m0 : undefined };
  if (label) console.log(`    ${label}: ${fmt(timing)}`);
  return timing;
}

/** Wall time, and where /proc has them the command's CPU time and the server's. */
const fmt = (t: Timing) => `${t.wall.toFixed(2)} s${t.cpu !== undefined ? ` (CPU ${t.cpu.toFixed(2)} s${t.server !== undefined ? `, server ${t.server.toFixed(2)} s` : ''})` : ''}`;
const sum = (...ts: Timing[]): Timing => ({
  wall: ts.reduce((n, t) => n + t.wall, 0),
  cpu: ts.every((t) => t.cpu !== undefined) ? ts.reduce((n, t) => n + t.cpu!, 0) : undefined,
  server: ts.every((t) => t.server !== undefined) ? ts.reduce((n, t) => n + t.server!, 0) : undefined,
});
const load = () => (existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : 'unknown');

/** The output a stage makes: `n` small files, or large random ones when `mb` is given. */
function writeData(dir: string, n: number, mb: number) {
  mkdirSync(dir, { recursive: true });
  if (mb) for (let i = 0; i < Math.max(1, Math.round(mb / 16)); i++) writeFileSync(join(dir, `blob${i}`), randomBytes(16 << 20));
  else for (let i = 0; i < n; i++) writeFileSync(join(dir, `f${i}.txt`), `small object ${i} `.repeat(5));
}

function project(name: string): string {
  const dir = join(tmpdir(), `massflow-bench-remote-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const ratio = (dvc: Timing | undefined, mf: Timing) => (dvc === undefined ? '' : `  (DVC/massflow ${(dvc.wall / mf.wall).toFixed(2)}x)`);

type Server = Pick<Moto, 'endpoint' | 'env' | 'bucket'>;
type Measured = { push: Timing; noop: Timing; pull: Timing; restore: Timing; run: Timing };

/** One comparison's rows: massflow's commands against DVC's where DVC ran. */
function printTable(mf: Measured, d: { push: Timing; noop: Timing; pull: Timing } | undefined) {
  const both = sum(mf.pull, mf.restore);
  console.log(`  push, empty remote     massflow ${fmt(mf.push)}${d ? `   dvc ${fmt(d.push)}` : ''}${ratio(d?.push, mf.push)}`);
  console.log(`  push, all there        massflow ${fmt(mf.noop)}${d ? `   dvc ${fmt(d.noop)}` : ''}${ratio(d?.noop, mf.noop)}`);
  console.log(`  pull into a new clone  massflow pull + run ${fmt(mf.pull)} + ${fmt(mf.restore)} = ${fmt(both)}` +
    `${d ? `   dvc pull ${fmt(d.pull)} (cache and workspace)` : ''}${ratio(d?.pull, both)}`);
  console.log(`                         massflow run alone (fetch and restore) ${fmt(mf.run)}${ratio(d?.pull, mf.run)}`);
  console.log(`  load average now: ${load()}`);
}

/**
 * DVC's side of a comparison: `outs` (workspace path -> where its content is) added in one project
 * and pushed to `url`, pushed again, then pulled into a second project that has only the .dvc files.
 */
function dvcRoundTrip(dvc: string, label: string, url: string, endpoint: string, env: Record<string, string>, outs: Record<string, string>) {
  const da = project(`${label}-dvc-a`);
  for (const [rel, from] of Object.entries(outs)) cpSync(from, join(da, rel), { recursive: true });
  timed(dvc, ['init', '-q', '--no-scm'], da, env);
  timed(dvc, ['remote', 'add', '-d', 's3', url], da, env);
  timed(dvc, ['remote', 'modify', 's3', 'endpointurl', endpoint], da, env);
  timed(dvc, ['add', '-q', ...Object.keys(outs)], da, env);
  const push = timed(dvc, ['push', '-q'], da, env, 'dvc push');
  const noop = timed(dvc, ['push', '-q'], da, env, 'dvc push again');
  const db = project(`${label}-dvc-b`);
  timed(dvc, ['init', '-q', '--no-scm'], db, env);
  cpSync(join(da, '.dvc/config'), join(db, '.dvc/config'));
  for (const rel of Object.keys(outs)) cpSync(join(da, `${rel}.dvc`), join(db, `${rel}.dvc`));
  const pull = timed(dvc, ['pull', '-q'], db, env, 'dvc pull');
  for (const p of [da, db]) rmSync(p, { recursive: true, force: true });
  return { push, noop, pull };
}

async function measure(label: string, n: number, mb: number, moto: Server, dvc: string | undefined) {
  const env = moto.env();
  const bucket = `bench-${label}`;
  await moto.bucket(bucket);
  const src = join(tmpdir(), `massflow-bench-remote-data-${label}`);
  rmSync(src, { recursive: true, force: true });
  writeData(src, n, mb);
  const spec = `name: bench\nremote: s3://${bucket}/massflow\nstages:\n  make:\n    cmd: [cp, -r, ${src}, data/out]\n    outs: [data/out]\n`;

  console.log(`${n ? `${n} small files` : `${mb} MB`}: measuring`);
  const a = project(`${label}-a`);
  writeFileSync(join(a, 'massflow.yaml'), spec);
  timed(process.execPath, [BIN, 'run', '--tracking-uri', 'none'], a, env);
  const mfPush = timed(process.execPath, [BIN, 'push'], a, env, 'massflow push');
  const mfNoop = timed(process.execPath, [BIN, 'push'], a, env, 'massflow push again');
  const b = project(`${label}-b`);
  writeFileSync(join(b, 'massflow.yaml'), spec);
  const mfPull = timed(process.execPath, [BIN, 'pull'], b, env, 'massflow pull');
  const mfRestore = timed(process.execPath, [BIN, 'run', '--tracking-uri', 'none'], b, env, 'massflow run (restore)');
  // The one-command way: `run` in a new clone fetches what it lacks and restores it, as `dvc pull` does.
  const c = project(`${label}-c`);
  writeFileSync(join(c, 'massflow.yaml'), spec);
  const mfRun = timed(process.execPath, [BIN, 'run', '--tracking-uri', 'none'], c, env, 'massflow run (fetch and restore)');

  const d = dvc ? dvcRoundTrip(dvc, label, `s3://${bucket}/dvc`, moto.endpoint, env, { 'data/out': src }) : undefined;
  const what = mb ? `${Math.max(1, Math.round(mb / 16))} x 16 MB` : `${n} small files`;
  console.log(`\n${what} (one directory output):`);
  printTable({ push: mfPush, noop: mfNoop, pull: mfPull, restore: mfRestore, run: mfRun }, d);
  for (const p of [a, b, c, src]) rmSync(p, { recursive: true, force: true });
}

/** A copy of the checkout's paper pipeline (pipelines/, stages/), whose stage modules import the checkout's src/ and node_modules. */
function paperProject(name: string): string {
  const dir = project(name);
  for (const d of ['pipelines', 'stages']) cpSync(join(REPO, d), join(dir, d), { recursive: true });
  symlinkSync(arg('--paper-src', join(REPO, 'src')), join(dir, 'src'));
  return dir;
}

function du(dir: string): string {
  return execFileSync('du', ['-sh', '--apparent-size', dir], { encoding: 'utf8' }).split('\t')[0]!;
}

async function measurePaper(server: Server, dvc: string | undefined) {
  const env = { ...server.env(), MASSFLOW_REMOTE: 's3://bench-paper/massflow' };
  await server.bucket('bench-paper');
  const spec = 'pipelines/paper.yaml';
  const run = ['run', spec, '--tracking-uri', 'none'];
  // The pipeline takes about 20 minutes on 2 cores: --paper-reuse keeps the project it computed.
  const kept = join(tmpdir(), 'massflow-bench-remote-paper-a');
  const reuse = args.includes('--paper-reuse') && existsSync(join(kept, '.massflow/cache'));
  const a = reuse ? kept : paperProject('paper-a');
  console.log(`paper pipeline cache: ${reuse ? `reusing ${a}` : 'running the pipeline (defaults) once'}`);
  timed(process.execPath, [BIN, ...run], a, env, reuse ? 'massflow run (all fresh)' : 'massflow run (computes everything)');
  const files = execFileSync('sh', ['-c', 'find .massflow/cache -type f | wc -l'], { cwd: a, encoding: 'utf8' }).trim();
  const mfPush = timed(process.execPath, [BIN, 'push', spec], a, env, 'massflow push');
  const mfNoop = timed(process.execPath, [BIN, 'push', spec], a, env, 'massflow push again');
  const b = paperProject('paper-b');
  const mfPull = timed(process.execPath, [BIN, 'pull', spec], b, env, 'massflow pull');
  const mfRestore = timed(process.execPath, [BIN, ...run], b, env, 'massflow run (restore)');
  const c = paperProject('paper-c');
  const mfRun = timed(process.execPath, [BIN, ...run], c, env, 'massflow run (fetch and restore)');
  const outs = ['data', 'models', 'reports'];
  const d = dvc ? dvcRoundTrip(dvc, 'paper', 's3://bench-paper/dvc', server.endpoint, env, Object.fromEntries(outs.map((o) => [o, join(a, o)]))) : undefined;
  console.log(`\npaper pipeline cache (${files} files, ${du(join(a, '.massflow/cache'))} in massflow's cache; ${outs.map((o) => `${o}/ ${du(join(a, o))}`).join(', ')} in the workspace):`);
  printTable({ push: mfPush, noop: mfNoop, pull: mfPull, restore: mfRestore, run: mfRun }, d);
  for (const p of [b, c, ...(args.includes('--paper-reuse') ? [] : [a])]) rmSync(p, { recursive: true, force: true });
}

console.log(`remote cache push/pull (node ${process.version}), server: ${serverKind} on 127.0.0.1; massflow 32 transfers at once, DVC its default; load average ${load()}`);
const dvc = withDvc ? dvcBin() : undefined;
if (withDvc && !dvc) console.log(`DVC ${DVC_VERSION} with its S3 extra could not be installed; DVC columns skipped`);
const moto = serverKind === 'minio' ? await Minio.start() : await Moto.start();
serverPid = moto.pid;
try {
  if (files) await measure('small', files, 0, moto, dvc);
  if (bigMb) await measure('big', 0, bigMb, moto, dvc);
  if (paper) await measurePaper(moto, dvc);
} finally {
  await moto.stop();
}
