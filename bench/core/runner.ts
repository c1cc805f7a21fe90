// Runner overhead against DVC measured in the same run: warm no-op `status` and `run` on a 7-stage
// pipeline whose deps hold 10k and 100k files (wall, CPU and peak RSS, massflow and DVC interleaved),
// cold hashing against sha256sum, planning 10^3 to 10^5 stage instances, how each figure grows, and
// MLflow metric points/s against the pinned Python client (bench/mlflow/points.ts, same run).
//   node --import tsx bench/core/runner.ts [--files 10000,100000] [--instances 1000,10000,100000]
//     [--reps 5] [--mlflow-points 20000] [--no-dvc] [--no-mlflow]
// DVC comes from the pinned venv (.venv-dvc, made by scripts/dvc-venv.sh); MLflow from .venv-mlflow.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatCache } from '../../src/cache/digest-path.js';
import { compilePipeline } from '../../src/pipeline/compile.js';
import { computeFingerprints, type CodeInfo } from '../../src/plan/fingerprint.js';
import { decide } from '../../src/plan/decide.js';
import { asDigest, type StageId } from '../../src/core/brand.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(REPO, 'bin/massflow.js');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] ?? fallback : fallback);
const sizes = opt('--files', '10000,100000').split(',').map(Number);
const instanceCounts = opt('--instances', '1000,10000,100000').split(',').map(Number);
const REPS = Number(opt('--reps', '5'));
const mlflowPoints = Number(opt('--mlflow-points', '20000'));
const TIME = '/usr/bin/time';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Sample { wall: number; cpu: number; rssMiB: number }

/** One command's wall and CPU seconds and peak RSS (from GNU time when present, else wall alone). */
function measure(cmd: string, argv: string[], cwd: string): Sample {
  const timed = existsSync(TIME);
  const t = performance.now();
  const r = spawnSync(timed ? TIME : cmd, timed ? ['-f', 'MFTIME %U %S %M', cmd, ...argv] : argv, { cwd, env: { ...process.env, CI: '1', NO_COLOR: '1' }, encoding: 'utf8' });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  const m = /MFTIME (\S+) (\S+) (\d+)/.exec(r.stderr);
  return m ? { wall, cpu: Number(m[1]) + Number(m[2]), rssMiB: Number(m[3]) / 1024 } : { wall, cpu: NaN, rssMiB: NaN };
}

/** Interleaves the commands REPS times (the machine's load drifts) and gives each one's medians. */
function interleaved(cmds: Record<string, () => Sample>): Record<string, Sample> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < REPS; i++) for (const [k, f] of Object.entries(cmds)) samples[k]!.push(f());
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, { wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)), rssMiB: median(s.map((x) => x.rssMiB)) }]));
}

function run(cmd: string, argv: string[], cwd: string) { measure(cmd, argv, cwd); }

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

/** The pinned DVC, made (idempotently) by the script the DVC tests use. */
function dvcBin(): string | undefined {
  try { execFileSync('bash', [join(REPO, 'scripts/dvc-venv.sh')], { stdio: 'ignore' }); } catch { return undefined; }
  const bin = join(REPO, '.venv-dvc/bin/dvc');
  return existsSync(bin) ? bin : undefined;
}

const s3 = (s: number) => `${s.toFixed(3)} s`;
const fmtSample = (s: Sample) => `${s3(s.wall)} (CPU ${s3(s.cpu)}, peak RSS ${s.rssMiB.toFixed(0)} MiB)`;
/** Growth exponent between two sizes: 1 is linear, below 1 better, above 1 worse. */
const exponent = (n1: number, t1: number, n2: number, t2: number) => Math.log(t2 / t1) / Math.log(n2 / n1);
const growthWord = (e: number) => (e <= 1.15 ? 'linear or better' : 'WORSE than linear');

console.log(`massflow runner benchmarks (node ${process.version}; ${REPS} interleaved repetitions, medians; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
const dvc = args.includes('--no-dvc') ? undefined : dvcBin();
if (!args.includes('--no-dvc') && !dvc) console.log('DVC could not be installed (scripts/dvc-venv.sh); DVC columns skipped');

const growth: { what: string; points: [number, number][] }[] = [];
const track = (what: string, n: number, t: number) => {
  const g = growth.find((x) => x.what === what) ?? growth[growth.push({ what, points: [] }) - 1]!;
  g.points.push([n, t]);
};

for (const n of sizes) {
  const dir = makeProject(n);
  const t0 = performance.now();
  run(process.execPath, [BIN, 'run', '-j', '2'], dir);
  const cold = (performance.now() - t0) / 1000;
  let dcold: number | undefined;
  if (dvc) {
    run('git', ['init', '-q'], dir);
    run(dvc, ['init', '-q'], dir);
    run(dvc, ['config', 'core.autostage', 'false'], dir);
    const d0 = performance.now();
    run(dvc, ['repro', '-q'], dir);
    dcold = (performance.now() - d0) / 1000;
  }
  // Both tools' state is warm now; each warm command is a no-op.
  const m = interleaved({
    status: () => measure(process.execPath, [BIN, 'status'], dir),
    run: () => measure(process.execPath, [BIN, 'run', '-j', '2'], dir),
    ...(dvc && {
      dstatus: () => measure(dvc, ['status', '-q'], dir),
      drepro: () => measure(dvc, ['repro', '-q'], dir),
    }),
  });
  console.log(`\n${n} files in deps (cold: massflow run ${s3(cold)}${dcold === undefined ? '' : `, dvc repro ${s3(dcold)}`})`);
  console.log(`  warm no-op status: massflow ${fmtSample(m.status!)}${m.dstatus ? `; DVC ${fmtSample(m.dstatus)}; massflow ${(m.dstatus.wall / m.status!.wall).toFixed(1)}x faster (CPU ${(m.dstatus.cpu / m.status!.cpu).toFixed(1)}x)` : ''}`);
  console.log(`  warm no-op run:    massflow ${fmtSample(m.run!)}${m.drepro ? `; DVC repro ${fmtSample(m.drepro)}; massflow ${(m.drepro.wall / m.run!.wall).toFixed(1)}x faster (CPU ${(m.drepro.cpu / m.run!.cpu).toFixed(1)}x)` : ''}`);
  track('no-op status (CPU s)', n, m.status!.cpu);
  track('no-op run (CPU s)', n, m.run!.cpu);
  track('status peak RSS (MiB)', n, m.status!.rssMiB);
  if (m.dstatus) track('DVC status (CPU s)', n, m.dstatus.cpu);
  // Cold hashing: an empty stat cache against sha256sum over the same files, interleaved REPS times.
  const cacheDir = join(dir, '.bench-stat');
  const hashing: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
  for (let r = 0; r < REPS; r++) {
    rmSync(cacheDir, { recursive: true, force: true });
    const h0 = performance.now();
    for (const t of [0, 1, 2]) await new StatCache(join(cacheDir, String(t))).digest(join(dir, `src${t}`));
    hashing.ours.push((performance.now() - h0) / 1000);
    const s0 = performance.now();
    execFileSync('sh', ['-c', 'find src0 src1 src2 -type f -print0 | xargs -0 sha256sum > /dev/null'], { cwd: dir });
    hashing.theirs.push((performance.now() - s0) / 1000);
  }
  const [ours, theirs] = [median(hashing.ours), median(hashing.theirs)];
  console.log(`  cold hashing of ${n} small files (median of ${REPS}): massflow ${s3(ours)}, sha256sum ${s3(theirs)} (massflow at ${(theirs / ours).toFixed(2)}x sha256sum's speed)`);
  track('cold hashing (wall s)', n, ours);
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

// Planning N stage instances in-process: compile, fingerprint, decide (CPU seconds, median).
console.log('');
for (const n of instanceCounts) {
  const text = `name: big\nparams: { n: ${n} }\nstages:\n  prep: { cmd: [prep], outs: [data] }\n  a:\n    foreach: { i: "\${range(n)}" }\n    cmd: [work, "\${i}"]\n    deps: [data]\n    outs: ["out/\${i}"]\n`;
  const phases: Record<'compile' | 'fingerprint' | 'decide', number[]> = { compile: [], fingerprint: [], decide: [] };
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  for (let r = 0; r < 3; r++) {
    let c = cpu();
    const lap = (k: keyof typeof phases) => { const now = cpu(); phases[k].push(now - c); c = now; };
    const p = compilePipeline({ file: 'big.yaml', text }).pipeline!;
    lap('compile');
    // Shaped as CodeDigester makes it (keys in canonical order).
    const code = new Map<StageId, CodeInfo>(p.stages.map((s) => [s.id, { argv: s.impl.kind === 'cmd' ? s.impl.argv : [], files: {}, kind: 'cmd', shell: false }]));
    const fps = computeFingerprints(p, { code, sourceDeps: new Map(), lockfile: asDigest('0'.repeat(64)), backend: 'cpu' });
    lap('fingerprint');
    decide(p, new Set(p.stages.map((s) => s.id)), fps, { entries: new Map(), workspace: new Map(), previous: new Map() }, false);
    lap('decide');
  }
  const [c, f, d] = [median(phases.compile), median(phases.fingerprint), median(phases.decide)];
  console.log(`planning ${n + 1} stage instances: ${s3(c + f + d)} CPU (compile ${s3(c)}, fingerprint ${s3(f)}, decide ${s3(d)})`);
  track('planning (CPU s)', n, c + f + d);
}

// MLflow metric points/s, the official Python client against massflow's, on one local server.
if (!args.includes('--no-mlflow')) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench/mlflow/points.ts'), String(mlflowPoints)], { encoding: 'utf8', env: { ...process.env, BENCH_ROUNDS: '1' } });
  const rows = (r.stdout ?? '').split('\n').filter((l) => /points\/s/.test(l));
  console.log(`\nMLflow metric points/s (${mlflowPoints} points per client; bench/mlflow/points.ts):`);
  if (r.status !== 0 || rows.length === 0) console.log(`  not measured: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  for (const l of rows) console.log(`  ${l.trim()}`);
}

console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('\ngrowth (exponent between consecutive sizes: 1 is linear):');
for (const g of growth) {
  const steps = g.points.slice(1).map(([n2, t2], i) => { const [n1, t1] = g.points[i]!; const e = exponent(n1, t1, n2, t2); return `${n1}->${n2}: ${(t2 / t1).toFixed(1)}x, exponent ${e.toFixed(2)} (${growthWord(e)})`; });
  console.log(`  ${g.what.padEnd(24)} ${g.points.map(([n, t]) => `${n}: ${t.toFixed(3)}`).join(', ')}${steps.length ? `; ${steps.join('; ')}` : ''}`);
}
