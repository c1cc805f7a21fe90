// Runner benchmarks (figures, not pass/fail): warm no-op `status` and `run` on a 7-stage pipeline
// whose deps hold 10k and 100k files, the same pipeline under DVC measured in the same run, cold
// hashing throughput against sha256sum, and planning time for 10^4 stage instances.
//   node --import tsx bench/core/runner.ts [--files 10000,100000] [--no-dvc]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatCache } from '../../src/cache/digest-path.js';
import { compilePipeline } from '../../src/pipeline/compile.js';
import { computeFingerprints, type CodeInfo } from '../../src/plan/fingerprint.js';
import { decide } from '../../src/plan/decide.js';
import { asDigest, type StageId } from '../../src/core/brand.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(REPO, 'bin/massflow.js');
const DVC_VERSION = '3.66.1';
const args = process.argv.slice(2);
const sizes = (args[args.indexOf('--files') + 1] && args.includes('--files') ? args[args.indexOf('--files') + 1]! : '10000,100000').split(',').map(Number);
const withDvc = !args.includes('--no-dvc');

function timeIt(fn: () => void, reps = 5): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); fn(); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]! / 1000;
}

function run(cmd: string, argv: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, CI: '1', NO_COLOR: '1', ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function makeProject(files: number): string {
  const dir = join(tmpdir(), `massflow-bench-${files}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  // 7 stages: 3 read one big source tree each (files/3), 4 chain on their outputs.
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < Math.ceil(files / 3); i++) {
      const d = join(dir, `src${t}`, String(i % 100));
      if (i < 100) mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `f${i}.txt`), `file ${t}/${i}\n`.repeat(8));
    }
  }
  const count = (inp: string, out: string) => `[sh, -c, "find ${inp} -type f | wc -l > ${out}"]`;
  const stages = [
    ...[0, 1, 2].map((t) => ({ name: `scan${t}`, cmd: count(`src${t}`, `out/scan${t}.txt`), deps: [`src${t}`], outs: [`out/scan${t}.txt`] })),
    { name: 'merge', cmd: `[sh, -c, "cat out/scan0.txt out/scan1.txt out/scan2.txt > out/merge.txt"]`, deps: ['out/scan0.txt', 'out/scan1.txt', 'out/scan2.txt'], outs: ['out/merge.txt'] },
    { name: 'a', cmd: `[sh, -c, "cp out/merge.txt out/a.txt"]`, deps: ['out/merge.txt'], outs: ['out/a.txt'] },
    { name: 'b', cmd: `[sh, -c, "cp out/a.txt out/b.txt"]`, deps: ['out/a.txt'], outs: ['out/b.txt'] },
    { name: 'c', cmd: `[sh, -c, "cp out/b.txt out/c.txt"]`, deps: ['out/b.txt', 'src0'], outs: ['out/c.txt'] },
  ];
  writeFileSync(join(dir, 'massflow.yaml'), `name: bench\nstages:\n${stages.map((s) => `  ${s.name}:\n    cmd: ${s.cmd}\n    deps: [${s.deps.join(', ')}]\n    outs: [${s.outs.join(', ')}]\n`).join('')}`);
  writeFileSync(join(dir, 'dvc.yaml'), `stages:\n${stages.map((s) => `  ${s.name}:\n    cmd: ${JSON.parse(s.cmd.replace(/^\[sh, -c, /, '[').replace(/\]$/, ']')).join(' ')}\n    deps: [${s.deps.join(', ')}]\n    outs: [${s.outs.join(', ')}]\n`).join('')}`);
  return dir;
}

function dvcBin(): string | undefined {
  const venv = join(REPO, '.bench/dvc-venv');
  const bin = join(venv, 'bin/dvc');
  if (!existsSync(bin)) {
    try {
      execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
      execFileSync(join(venv, 'bin/pip'), ['install', '-q', `dvc==${DVC_VERSION}`], { stdio: 'inherit' });
    } catch { return undefined; }
  }
  return existsSync(bin) ? bin : undefined;
}

const fmt = (s: number) => `${s.toFixed(3)} s`;

console.log(`massflow runner benchmarks (node ${process.version})`);
const dvc = withDvc ? dvcBin() : undefined;
if (withDvc && !dvc) console.log(`DVC ${DVC_VERSION} could not be installed; DVC columns skipped`);

for (const n of sizes) {
  const dir = makeProject(n);
  const t0 = performance.now();
  run(process.execPath, [BIN, 'run', '-j', '2'], dir);
  const cold = (performance.now() - t0) / 1000;
  const status = timeIt(() => run(process.execPath, [BIN, 'status'], dir));
  const noop = timeIt(() => run(process.execPath, [BIN, 'run', '-j', '2'], dir));
  console.log(`\n${n} files in deps: cold run ${fmt(cold)}; warm no-op status ${fmt(status)}, run ${fmt(noop)}`);
  if (dvc) {
    run('git', ['init', '-q'], dir);
    run(dvc, ['init', '-q'], dir);
    run(dvc, ['config', 'core.autostage', 'false'], dir);
    const d0 = performance.now();
    run(dvc, ['repro', '-q'], dir);
    const dcold = (performance.now() - d0) / 1000;
    const dstatus = timeIt(() => run(dvc, ['status', '-q'], dir), 3);
    const drepro = timeIt(() => run(dvc, ['repro', '-q'], dir), 3);
    console.log(`  DVC ${DVC_VERSION}: cold repro ${fmt(dcold)}; warm status ${fmt(dstatus)}, repro ${fmt(drepro)}`);
    console.log(`  massflow/DVC speed-up: status ${(dstatus / status).toFixed(1)}x, no-op run ${(drepro / noop).toFixed(1)}x`);
  }
  if (n === Math.max(...sizes)) {
    // Cold hashing: an empty stat cache against sha256sum over the same files.
    const cacheDir = join(dir, '.bench-stat');
    const h0 = performance.now();
    for (const t of [0, 1, 2]) await new StatCache(join(cacheDir, String(t))).digest(join(dir, `src${t}`));
    const ours = (performance.now() - h0) / 1000;
    const s0 = performance.now();
    execFileSync('sh', ['-c', 'find src0 src1 src2 -type f -print0 | xargs -0 sha256sum > /dev/null'], { cwd: dir });
    const theirs = (performance.now() - s0) / 1000;
    console.log(`  cold hashing of ${n} small files: massflow ${fmt(ours)}, sha256sum ${fmt(theirs)} (massflow at ${(theirs / ours).toFixed(2)}x sha256sum's speed)`);
  }
  rmSync(dir, { recursive: true, force: true });
}

// Large files: throughput.
{
  const dir = join(tmpdir(), 'massflow-bench-big');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const block = Buffer.alloc(64 << 20, 7);
  for (let i = 0; i < 8; i++) { block[0] = i; writeFileSync(join(dir, `big${i}.bin`), block); }
  const h0 = performance.now();
  await new StatCache(join(dir, '.stat')).digest(join(dir));
  const ours = (performance.now() - h0) / 1000;
  const s0 = performance.now();
  execFileSync('sh', ['-c', 'sha256sum big*.bin > /dev/null'], { cwd: dir });
  const theirs = (performance.now() - s0) / 1000;
  console.log(`\ncold hashing of 512 MiB in 8 files: massflow ${(512 / ours).toFixed(0)} MiB/s, sha256sum ${(512 / theirs).toFixed(0)} MiB/s (${(theirs / ours).toFixed(2)}x)`);
  rmSync(dir, { recursive: true, force: true });
}

// Planning 10^4 stage instances in-process: compile, fingerprint, decide.
{
  const text = `name: big\nparams: { n: 10000 }\nstages:\n  prep: { cmd: [prep], outs: [data] }\n  a:\n    foreach: { i: "\${range(n)}" }\n    cmd: [work, "\${i}"]\n    deps: [data]\n    outs: ["out/\${i}"]\n`;
  const t = timeIt(() => {
    const p = compilePipeline({ file: 'big.yaml', text }).pipeline!;
    const code = new Map<StageId, CodeInfo>(p.stages.map((s) => [s.id, { kind: 'cmd', argv: s.impl.kind === 'cmd' ? s.impl.argv : [], shell: false, files: {} }]));
    const fps = computeFingerprints(p, { code, sourceDeps: new Map(), lockfile: asDigest('0'.repeat(64)), backend: 'cpu' });
    decide(p, new Set(p.stages.map((s) => s.id)), fps, { entries: new Map(), workspace: new Map(), previous: new Map() }, false);
  }, 3);
  console.log(`\nplanning 10001 stage instances (compile + fingerprint + decide): ${fmt(t)}`);
}
