// Per-stage overhead of the Slurm executor against the local one (figures, not pass/fail): the same
// small pipelines run with --force under both, wall time of the whole `massflow run` divided by the
// stage count. Shapes: a chain (each stage waits on the previous one: submit-to-start latency and
// the afterok hop dominate), a fan-out (independent stages: throughput), and the smoke pipeline.
// Needs a running cluster (scripts/slurm-local.sh up).
//   node --import tsx bench/slurm/overhead.ts [--stages 8] [--reps 3] [--kind ts|cmd]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(REPO, 'bin/massflow.js');
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] ?? fallback : fallback);
const N = Number(opt('--stages', '8'));
const REPS = Number(opt('--reps', '3'));
const KIND = opt('--kind', 'ts') as 'ts' | 'cmd';

const TS_STAGE = `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${pathToFileURL(join(REPO, 'src/stage/define.ts')).href}';
export default defineStage({ async run(ctx) { writeFileSync(ctx.outDir, ctx.stageId + '\\n'); } });
`;

function stageLine(i: number, dep: string | undefined): string {
  const out = `out/s${i}.txt`;
  const impl = KIND === 'ts' ? 'run: stages/w.ts' : `cmd: [sh, -c, "echo s${i} > ${out}"]`;
  return `  s${i}: { ${impl}, outs: [${out}]${dep ? `, deps: [${dep}]` : ''} }`;
}

function project(shape: 'chain' | 'fan' | 'smoke'): string {
  const dir = mkdtempSync(join(tmpdir(), `massflow-bench-slurm-${shape}-`));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  if (shape === 'smoke') {
    mkdirSync(join(dir, 'scripts'));
    cpSync(join(REPO, 'pipelines/smoke.yaml'), join(dir, 'massflow.yaml'));
    cpSync(join(REPO, 'stages/smoke'), join(dir, 'stages/smoke'), { recursive: true });
    cpSync(join(REPO, 'scripts/smoke-stats.mjs'), join(dir, 'scripts/smoke-stats.mjs'));
    symlinkSync(join(REPO, 'src'), join(dir, 'src'));
    return dir;
  }
  mkdirSync(join(dir, 'stages'));
  writeFileSync(join(dir, 'stages/w.ts'), TS_STAGE);
  const lines = ['name: bench', 'stages:'];
  for (let i = 0; i < N; i++) lines.push(stageLine(i, shape === 'chain' && i > 0 ? `out/s${i - 1}.txt` : undefined));
  writeFileSync(join(dir, 'massflow.yaml'), lines.join('\n') + '\n');
  return dir;
}

function timeRun(dir: string, executor: string): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'run', '--force', '--executor', executor], {
    cwd: dir, env: { ...process.env, CI: '1', NO_COLOR: '1', MASSFLOW_BACKEND: 'cpu' }, encoding: 'utf8',
  });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${executor} run in ${dir} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const check = spawnSync('scontrol', ['ping'], { encoding: 'utf8' });
if (check.status !== 0) {
  console.error('no Slurm controller answers: start one with scripts/slurm-local.sh up');
  process.exit(1);
}

console.log(`massflow Slurm executor overhead · ${KIND} stages · median of ${REPS} · wall time of a whole --force run`);
console.log('shape        stages   local s   slurm s   local s/stage   slurm s/stage   overhead s/stage');
for (const shape of ['chain', 'fan', 'smoke'] as const) {
  const dir = project(shape);
  const stages = shape === 'smoke' ? 7 : N;
  try {
    timeRun(dir, 'local'); // warm the stat cache and the module cache on disk
    const local = median(Array.from({ length: REPS }, () => timeRun(dir, 'local')));
    const slurm = median(Array.from({ length: REPS }, () => timeRun(dir, 'slurm')));
    const f = (x: number) => x.toFixed(2).padStart(8);
    console.log(`${shape.padEnd(12)} ${String(stages).padStart(6)}  ${f(local)}  ${f(slurm)}  ${f(local / stages).padStart(14)}  ${f(slurm / stages).padStart(14)}  ${f((slurm - local) / stages).padStart(17)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
