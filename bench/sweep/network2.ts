// Benchmark: network 2's sweep (learning rate, batch, width) on the paper pipeline, four ways, in
// one project and one run: the 27-point grid; Optuna TPE with median pruning; TPE without pruning
// at the same number of trials (what the pruner adds); Optuna random search given the epochs TPE +
// pruning spent. Printed per method: the best cross-validate/mae_mean found, the epochs network 2
// trained for it (every fold's, counted from the streamed train_mae steps; a stage a method found
// in the cache, run by another method with the same params, counts the epochs that run spent, and
// a pruned one those before it stopped), trials complete and pruned, and wall time. The goal
// (issue 20): TPE + pruning at least as good as the grid with <= 40% of its epochs. The upstream
// stages (sky, cutouts, network 1, features, pretext) run once and are shared by every trial.
// Usage:
//   nice -n 10 node --import tsx bench/sweep/network2.ts [--jobs 2] [--tpe-trials 12] [--epochs 20] [--keep] [--warmups 10,...]
//     [--seeds 2,3] [--pruners successive-halving,hyperband] [--pruner-seeds 5,7] [--pruning-only] [--rerun NAME,...]
// --keep reuses the project of an earlier run (its upstream stages and trials come from the cache,
// with the epochs they took). Needs `npm run build` and .venv-optuna (scripts/optuna-venv.sh). The
// scale is small enough for a loaded 2-core machine (see SCALE): it compares the methods, not the
// paper's figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '../../src/record/run-record.js';
import type { SweepRecord } from '../../src/sweep/record.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const JOBS = arg('--jobs', 2);
const TPE_TRIALS = arg('--tpe-trials', 12);
// Further median-pruner warm-ups to try beside the default 4 (each another TPE + pruning row; the
// goal is judged on warm-up 4, the setting chosen before any run).
const WARMUPS = args.includes('--warmups') ? args[args.indexOf('--warmups') + 1]!.split(',').map(Number) : [];
const EPOCHS = arg('--epochs', 20);
const KEEP = args.includes('--keep');
// More TPE + median pruning seeds beside 1 (the goal is then judged on the median across seeds),
// and the other pruners (seeds 5, 6, ...), each another row.
const SEEDS = args.includes('--seeds') ? args[args.indexOf('--seeds') + 1]!.split(',').map(Number) : [];
const PRUNERS = args.includes('--pruners') ? args[args.indexOf('--pruners') + 1]!.split(',') as ('successive-halving' | 'hyperband')[] : [];
const PRUNER_SEEDS = args.includes('--pruner-seeds') ? args[args.indexOf('--pruner-seeds') + 1]!.split(',').map(Number) : [];
const ONLY_PRUNING = args.includes('--pruning-only');
// Methods (by experiment name, e.g. tpe-prune-s2) run again with --keep although a record of them
// exists: their study starts afresh; their stages still come from the cache where it has them.
const RERUN = args.includes('--rerun') ? args[args.indexOf('--rerun') + 1]!.split(',') : [];

// The `seconds` profile's small sky and networks, with more labelled clusters (so the params
// matter) and network 2 trained longer; only the paper variant of network 2 (mae_mean's). The
// labelled redshifts are the pipeline's own, as when docs/experiments.md's figures were measured
// (the profile moves them to z 0.3-0.55, where 40 clusters fit one field).
const SCALE = `profiles: [seconds]
overrides:
  sim.clusters: 300
  sim.labelled: 300
  sim.labelledZ: [0.08, 0.102, 0.136, 0.169, 0.201, 0.235, 0.277, 0.324, 0.361, 0.426, 0.546]
  cutout.size: 16
  fit.epochs: ${EPOCHS}
  fit.patience: 6
  cv.folds: 2
  compare.variants: [paper]
targets: [cross-validate]
objective: { metric: cross-validate/mae_mean, direction: min }
concurrency: ${JOBS}
`;
const SPACE = { lr: [1.0e-4, 3.0e-4, 1.0e-3], batch: [16, 32, 64], hidden: [16, 32, 64] };
const grid = `pipeline: pipelines/paper.yaml
sweep:
  grid:
    fit.lr: [${SPACE.lr.join(', ')}]
    fit.batch: [${SPACE.batch.join(', ')}]
    fit.hidden: [${SPACE.hidden.join(', ')}]
${SCALE}`;
// Each method its own seed: TPE's first trials are random draws, which random search with the same
// seed would ask again (and find in the cache).
// The pruner: the median pruner with warm-up `warmup` (a number), Optuna's successive halving or
// hyperband at their defaults, or none (undefined).
const optuna = (sampler: string, seed: number, trials: number, warmup: number | 'successive-halving' | 'hyperband' | undefined) => `pipeline: pipelines/paper.yaml
sweep:
  optuna:
    sampler: ${sampler}
    seed: ${seed}
${sampler === 'tpe' ? '    sampler_options: { n_startup_trials: 4 }    # TPE\'s default 10 would leave it random for most of a small budget\n' : ''}    trials: ${trials}
    params:
      fit.lr: { log-uniform: [${SPACE.lr[0]}, ${SPACE.lr.at(-1)}] }
      fit.batch: { choice: [${SPACE.batch.join(', ')}] }
      fit.hidden: { choice: [${SPACE.hidden.join(', ')}] }
${warmup === undefined ? '' : typeof warmup === 'string' ? `    prune: { pruner: ${warmup}, metric: fit-mass/val_mae }\n` : `    prune: { pruner: median, metric: fit-mass/val_mae, warmup_steps: ${warmup}, startup_trials: 4 }\n`}${SCALE}`;

/** A project that reads the repository's pipelines, stages and sources, with its own state. */
function project(): string {
  const dir = join(tmpdir(), 'massflow-bench-network2');
  if (KEEP && existsSync(join(dir, 'experiments'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'experiments'), { recursive: true });
  for (const e of ['pipelines', 'stages', 'src', 'node_modules', 'package.json', 'package-lock.json', 'tsconfig.json']) symlinkSync(join(REPO, e), join(dir, e));
  return dir;
}

interface Result { name: string; best: number | null; epochs: number; complete: number; pruned: number; failed: number; wallS: number }

function sweep(dir: string, name: string, text: string): Result {
  const runs = join(dir, 'runs');
  const file = `experiments/${name}.yaml`;
  const latest = () => readdirSync(runs).filter((d) => !d.includes('.')).sort().reverse()
    .map((d) => JSON.parse(readFileSync(join(runs, d, 'sweep.json'), 'utf8')) as SweepRecord).find((r) => r.experiment.file === file);
  // --keep: a method that already ran with the same file is read back, not run again; one whose
  // file changed starts a new study (the old one belongs to the old file).
  const kept = KEEP && existsSync(runs) ? latest() : undefined;
  if (kept && kept.spec === text && kept.status === 'succeeded' && !RERUN.includes(name)) return result(dir, name, kept, (kept.durationMs ?? 0) / 1000);
  for (const ext of ['db', 'db-wal', 'db-shm']) rmSync(join(dir, `.massflow/optuna/${name}.${ext}`), { force: true });
  writeFileSync(join(dir, file), text);
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(REPO, 'bin/massflow.js'), 'sweep', `experiments/${name}.yaml`, '-j', String(JOBS), '--tracking-uri', 'none'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, MASSFLOW_OPTUNA_PYTHON: process.env['MASSFLOW_OPTUNA_PYTHON'] ?? join(REPO, '.venv-optuna/bin/python') },
  });
  const wallS = (performance.now() - t) / 1000;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${name} failed (${r.status}): ${(r.stderr || r.stdout).slice(-3000)}`);
  return result(dir, name, latest()!, wallS);
}

function result(dir: string, name: string, rec: SweepRecord, wallS: number): Result {
  const runs = join(dir, 'runs');
  // Each distinct fit-mass stage once (trials with the same params share it), with the epochs of
  // the run that trained it: this sweep's own, or the earlier one whose cache entry it found.
  const stages = new Map<string, number>();
  const trained = epochsByFingerprint(runs);
  for (const t of rec.trials) {
    const run = JSON.parse(readFileSync(join(runs, t.runId, 'run.json'), 'utf8')) as RunRecord;
    for (const [id, st] of Object.entries(run.stages)) {
      if (!id.startsWith('fit-mass')) continue;
      const own = st.outcome === 'ran' || st.outcome === 'pruned' ? ownEpochs(join(runs, t.runId), id) : undefined;
      stages.set(`${st.fingerprint}${st.outcome === 'pruned' ? `#pruned-${t.runId}` : ''}`, own ?? trained.get(st.fingerprint) ?? 0);
    }
  }
  const epochs = [...stages.values()].reduce((a, b) => a + b, 0);
  const n = (s: string) => rec.trials.filter((t) => t.status === s).length;
  return { name, best: rec.best?.value ?? null, epochs, complete: n('succeeded'), pruned: n('pruned'), failed: n('failed'), wallS };
}

/** The epochs a run's own stage trained: its streamed train_mae steps. */
function ownEpochs(runDir: string, stage: string): number {
  const steps = new Set<number>();
  let text = '';
  try { text = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'); } catch { return 0; }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const p = JSON.parse(line) as { stage: string; key: string; step: number | null };
    if (p.stage === stage && p.key === 'train_mae' && p.step !== null) steps.add(p.step);
  }
  return steps.size;
}

/** fingerprint -> epochs, for every fit-mass stage some run in the project trained to the end. */
function epochsByFingerprint(runs: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync(runs).filter((x) => x.includes('.'))) {
    let run: RunRecord;
    try { run = JSON.parse(readFileSync(join(runs, d, 'run.json'), 'utf8')) as RunRecord; } catch { continue; }
    for (const [id, st] of Object.entries(run.stages)) if (id.startsWith('fit-mass') && st.outcome === 'ran') out.set(st.fingerprint, ownEpochs(join(runs, d), id));
  }
  return out;
}

const dir = project();
console.log(`network 2 sweep: ${JOBS} jobs, ${EPOCHS} epochs max per fold (patience 6), 2 folds; load average before ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const results: Result[] = [];
const g = sweep(dir, 'grid', grid);
results.push(g);
console.log(`grid done in ${g.wallS.toFixed(0)} s (includes the shared upstream stages)`);
const tpe = sweep(dir, 'tpe-prune', optuna('tpe', 1, TPE_TRIALS, 4));
results.push(tpe);
const seeded = [tpe];
for (const seed of SEEDS) {
  const r = sweep(dir, `tpe-prune-s${seed}`, optuna('tpe', seed, TPE_TRIALS, 4));
  seeded.push(r);
  results.push(r);
}
// Each pruner on a seed no other row uses: with seed 1 TPE would ask what the unpruned TPE row
// asked, find every trial in the cache, and a cached stage streams no curve for a pruner to judge.
PRUNERS.forEach((p, i) => {
  const seed = PRUNER_SEEDS[i] ?? 5 + i;
  results.push(sweep(dir, `tpe-prune-${p === 'hyperband' ? 'hb' : 'sh'}-s${seed}`, optuna('tpe', seed, TPE_TRIALS, p)));
});
for (const w of WARMUPS) results.push(sweep(dir, `tpe-prune-w${w}`, optuna('tpe', 1, TPE_TRIALS, w)));
if (!ONLY_PRUNING) {
  results.push(sweep(dir, 'tpe', optuna('tpe', 1, TPE_TRIALS, undefined)));
  // Random search gets the epochs TPE + pruning spent: as many trials as the grid's mean epochs per trial fit in.
  const perTrial = g.epochs / Math.max(1, g.complete + g.pruned + g.failed);
  const randomTrials = Math.max(1, Math.round(tpe.epochs / perTrial));
  results.push(sweep(dir, 'random', optuna('random', 2, randomTrials, undefined)));
}

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(4));
console.log('\nmethod         trials (complete/pruned/failed)  best mae_mean  epochs  epochs vs grid  wall');
for (const r of results) {
  console.log(`${r.name.padEnd(14)} ${`${r.complete + r.pruned + r.failed} (${r.complete}/${r.pruned}/${r.failed})`.padEnd(32)} ${fmt(r.best).padEnd(14)} ${String(r.epochs).padEnd(7)} ${`${((100 * r.epochs) / g.epochs).toFixed(0)}%`.padEnd(15)} ${r.wallS.toFixed(0)} s`);
}
// With several seeds, the goal is judged on the median best and the median epochs across them.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const bests = seeded.map((r) => r.best ?? Infinity);
const judged = { best: seeded.length > 1 ? median(bests) : tpe.best, epochs: seeded.length > 1 ? median(seeded.map((r) => r.epochs)) : tpe.epochs };
const met = judged.best !== null && g.best !== null && judged.best <= g.best && judged.epochs <= 0.4 * g.epochs;
console.log(`\ngoal (TPE + pruning at least as good as the grid with <= 40% of its epochs${seeded.length > 1 ? `; median over ${seeded.length} seeds` : ''}): ${met ? 'met' : 'NOT met'}` +
  ` (best ${fmt(judged.best)} vs ${fmt(g.best)}, ${((100 * judged.epochs) / g.epochs).toFixed(0)}% of the grid's epochs${seeded.length > 1 ? `; seeds' bests ${bests.map(fmt).join(', ')}` : ''})`);
console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
