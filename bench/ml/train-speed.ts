// Training speed of the pipeline's network 1 (and a plain reference CNN, see nets.ts) on each
// available tfjs backend against PyTorch CPU on the same network, measured in the same run, one
// engine at a time. Prints images/s and the ratio to PyTorch.
//   node --import tsx bench/ml/train-speed.ts [--sizes 64,128] [--seconds 8] [--rounds 3]
//     [--backends native,wasm] [--torch-threads 2,1] [--no-torch]
// Engines are timed in interleaved rounds (tfjs backends, then PyTorch, then again), and each is
// reported by its best round: a burst of other work on a shared 2-core machine slows whichever
// engine it lands on, PyTorch's spinning OpenMP threads most of all (seen: 87 against 378 images/s).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ENV, describeBackend } from '../../src/ml/backend.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] ?? dflt : dflt);
const sizes = opt('--sizes', '64,128');
const seconds = opt('--seconds', '8');

interface Row { engine: string; version: string; net: string; size: number; steps: number; imagesPerSecond: number }
const rows: Row[] = [];

function collect(out: string): void {
  for (const line of out.split('\n')) {
    if (line.startsWith('{')) rows.push(JSON.parse(line) as Row);
  }
}

const rounds = Math.max(1, Number(opt('--rounds', '3')));

// The pure-JS cpu backend is left out: ~0.1 images/s at 64 px, a benchmark of minutes per step.
const backends = opt('--backends', 'native-gpu,native,wasm').split(',').filter((name) => {
  const d = describeBackend({ ...process.env, [BACKEND_ENV]: name });
  if (!d.ok) console.log(`skip ${name}: ${d.error}`);
  return d.ok;
});

let py: string | undefined;
if (!args.includes('--no-torch')) {
  console.log('preparing PyTorch (bench/ml/setup-torch.sh) ...');
  const setup = spawnSync('bash', [join(REPO, 'bench/ml/setup-torch.sh')], { cwd: REPO, stdio: 'inherit' });
  const candidate = join(REPO, '.bench/venv/bin/python');
  if (setup.status !== 0 || !existsSync(candidate)) console.log('PyTorch unavailable (no PyPI?): no reference figures');
  else py = candidate;
}

for (let round = 1; round <= rounds; round++) {
  for (const name of backends) {
    console.log(`round ${round}/${rounds}: timing ${name} ...`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench/ml/tfjs-speed.ts'), sizes, seconds], {
      cwd: REPO, env: { ...process.env, [BACKEND_ENV]: name }, encoding: 'utf8', maxBuffer: 1 << 24,
    });
    if (r.status !== 0) console.log(`${name} failed:\n${r.stderr.split('\n').slice(-8).join('\n')}`);
    collect(r.stdout);
  }
  if (!py) continue;
  // Both thread counts: under load PyTorch's OpenMP threads spin against other work and 2 threads
  // can be several times slower than 1; the ratio uses the faster of the two.
  for (const threads of opt('--torch-threads', `${cpus().length},1`).split(',')) {
    console.log(`round ${round}/${rounds}: timing pytorch, ${threads} threads ...`);
    const r = spawnSync(py, [join(REPO, 'bench/ml/torch_speed.py'), sizes, seconds, threads], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) console.log(`pytorch failed:\n${r.stderr.split('\n').slice(-8).join('\n')}`);
    collect(r.stdout);
  }
}

// One line per engine (PyTorch per thread count), network and size: best and median over rounds.
const engineOf = (r: Row) => (r.engine === 'pytorch' ? `pytorch/${r.version.match(/(\d+) threads/)?.[1] ?? '?'}t` : r.engine);
const groups = new Map<string, { engine: string; net: string; size: number; figures: number[] }>();
for (const r of rows) {
  const key = `${engineOf(r)}|${r.net}|${r.size}`;
  const g = groups.get(key) ?? { engine: engineOf(r), net: r.net, size: r.size, figures: [] };
  g.figures.push(r.imagesPerSecond);
  groups.set(key, g);
}
const best = (figures: number[]) => Math.max(...figures);
const median = (figures: number[]) => {
  const s = [...figures].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const bestTorch = (net: string, size: number) => Math.max(0, ...[...groups.values()]
  .filter((g) => g.engine.startsWith('pytorch') && g.net === net && g.size === size).map((g) => best(g.figures)));
console.log(`\ntraining images/s, batch 32, Adam; best (median) of ${rounds} round(s); ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${'net'.padEnd(10)} ${'px'.padStart(4)}  ${'engine'.padEnd(11)} ${'best'.padStart(7)} ${'(median)'.padStart(9)}  ${'vs best PyTorch'.padStart(15)}`);
for (const g of groups.values()) {
  const t = bestTorch(g.net, g.size);
  const ratio = t > 0 && !g.engine.startsWith('pytorch') ? `${(best(g.figures) / t).toFixed(2)}x` : '';
  console.log(`${g.net.padEnd(10)} ${String(g.size).padStart(4)}  ${g.engine.padEnd(11)} ${best(g.figures).toFixed(1).padStart(7)} ${`(${median(g.figures).toFixed(1)})`.padStart(9)}  ${ratio.padStart(15)}`);
}
for (const v of new Set(rows.map((r) => `${r.engine}: ${r.version}`))) console.log(`  ${v}`);
mkdirSync(join(REPO, '.bench'), { recursive: true });
const out = join(REPO, '.bench', `train-speed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ loadavg: loadavg(), rows }, null, 2));
console.log(`\nfigures saved to ${out}`);
