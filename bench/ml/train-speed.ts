// Training speed of the pipeline's network 1 (and a plain reference CNN, see nets.ts) on each
// available tfjs backend against PyTorch CPU on the same network, measured in the same run, one
// engine at a time. Prints images/s and the ratio to PyTorch.
//   node --import tsx bench/ml/train-speed.ts [--sizes 64,128] [--seconds 8] [--backends native,wasm]
//     [--torch-threads 2,1] [--no-torch]
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

// The pure-JS cpu backend is left out: ~0.1 images/s at 64 px, a benchmark of minutes per step.
const wanted = opt('--backends', 'native-gpu,native,wasm').split(',');
for (const name of wanted) {
  const d = describeBackend({ ...process.env, [BACKEND_ENV]: name });
  if (!d.ok) {
    console.log(`skip ${name}: ${d.error}`);
    continue;
  }
  console.log(`timing ${name} (${d.value.version}) ...`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench/ml/tfjs-speed.ts'), sizes, seconds], {
    cwd: REPO, env: { ...process.env, [BACKEND_ENV]: name }, encoding: 'utf8', maxBuffer: 1 << 24,
  });
  if (r.status !== 0) console.log(`${name} failed:\n${r.stderr.split('\n').slice(-8).join('\n')}`);
  collect(r.stdout);
}

if (!args.includes('--no-torch')) {
  console.log('preparing PyTorch (bench/ml/setup-torch.sh) ...');
  const setup = spawnSync('bash', [join(REPO, 'bench/ml/setup-torch.sh')], { cwd: REPO, stdio: 'inherit' });
  const py = join(REPO, '.bench/venv/bin/python');
  if (setup.status !== 0 || !existsSync(py)) {
    console.log('PyTorch unavailable (no PyPI?): no reference figures');
  } else {
    // Both thread counts: on a loaded machine PyTorch's OpenMP threads spin against other work and
    // 2 threads can be several times slower than 1; the ratio uses the faster of the two.
    for (const threads of opt('--torch-threads', `${cpus().length},1`).split(',')) {
      console.log(`timing pytorch, ${threads} threads ...`);
      const r = spawnSync(py, [join(REPO, 'bench/ml/torch_speed.py'), sizes, seconds, threads], { cwd: REPO, encoding: 'utf8' });
      if (r.status !== 0) console.log(`pytorch failed:\n${r.stderr.split('\n').slice(-8).join('\n')}`);
      collect(r.stdout);
    }
  }
}

const torch = (net: string, size: number) => rows
  .filter((r) => r.engine === 'pytorch' && r.net === net && r.size === size)
  .sort((a, b) => b.imagesPerSecond - a.imagesPerSecond)[0];
console.log(`\ntraining images/s, batch 32, Adam; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${'net'.padEnd(10)} ${'px'.padStart(4)}  ${'engine'.padEnd(11)} ${'images/s'.padStart(9)}  ${'vs best PyTorch'.padStart(15)}`);
for (const r of rows) {
  const t = torch(r.net, r.size);
  const ratio = t && r.engine !== 'pytorch' ? `${(r.imagesPerSecond / t.imagesPerSecond).toFixed(2)}x` : '';
  const engine = r.engine === 'pytorch' ? `pytorch/${r.version.match(/(\d+) threads/)?.[1] ?? '?'}t` : r.engine;
  console.log(`${r.net.padEnd(10)} ${String(r.size).padStart(4)}  ${engine.padEnd(11)} ${r.imagesPerSecond.toFixed(1).padStart(9)}  ${ratio.padStart(15)}`);
}
for (const v of new Set(rows.map((r) => `${r.engine}: ${r.version}`))) console.log(`  ${v}`);
mkdirSync(join(REPO, '.bench'), { recursive: true });
const out = join(REPO, '.bench', `train-speed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ loadavg: loadavg(), rows }, null, 2));
console.log(`\nfigures saved to ${out}`);
