// What limits network 2 on a simulated sky, measured on one finished run of pipelines/paper.yaml
// (any profile): the same 5 folds cross-validate uses, three questions.
//   1. Does network 1 lose what a mass needs? Network 2 on network 1's features against network 2
//      on the cutout pixels themselves, mean- and max-pooled to the same grid.
//   2. Is network 2 short of examples? The same training on every other training cluster.
//   3. What would a perfect counter reach? Nearest-neighbour medians of log M on the true member
//      counts the sim wrote into its catalogue (in the cutout's cell, in the whole cluster).
//   node --import tsx bench/ml/cnn-limits.ts [workspace] [--epochs 150] [--patience 30] [--lr 1e-3]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readClusterCatalog, type ClusterRow } from '../../src/astro/cluster-catalog.js';
import { csvNumber } from '../../src/astro/csv.js';
import { loadBackend } from '../../src/ml/backend.js';
import { CutoutDataset } from '../../src/ml/cutouts.js';
import { labelledOnly, readFeatures, type LabelledFeatureSet } from '../../src/ml/features.js';
import { assignFolds, foldSplit } from '../../src/ml/folds.js';
import { unwrap } from '../../src/core/result.js';
import { deriveSeed } from '../../src/ml/rng.js';
import { mae, mean, std } from '../../src/ml/stats.js';
import { predictMass, trainMassNet } from '../../src/ml/train-mass.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { epochs: { type: 'string', default: '150' }, patience: { type: 'string', default: '30' }, lr: { type: 'string', default: '1e-3' } },
});
const ws = positionals[0] ?? '.';
const FOLDS = 5;
for (const need of ['data/features/index.json', 'data/cutouts', 'data/sky/catalog.csv', 'data/sky/floor.json']) {
  if (!existsSync(join(ws, need))) {
    console.error(`${join(ws, need)} is missing: run the simulated-sky pipeline there first (massflow run pipelines/paper.yaml [--profile wide])`);
    process.exit(2);
  }
}
const backend = await loadBackend();
const features = unwrap(labelledOnly(unwrap(await readFeatures(join(ws, 'data/features')), 'features')), 'features');
const logM = features.index.clusters.map((c) => c.logM500);
const assignment = unwrap(assignFolds(logM, FOLDS, 1), 'folds');

/** Network 2's 5-fold CV MAE on a feature set, training on every `every`-th training cluster. */
async function crossValidate(set: LabelledFeatureSet, every: number): Promise<{ mean: number; std: number; train: number }> {
  const scores: number[] = [];
  let train = 0;
  for (let f = 0; f < FOLDS; f++) {
    const split = foldSplit(assignment, f);
    const subset = split.train.filter((_, k) => k % every === 0);
    const r = await trainMassNet(set, subset, {
      epochs: Number(values.epochs), batch: 32, lr: Number(values.lr), patience: Number(values.patience),
      seed: deriveSeed(1, 'fold', f), hidden: 32, augment: true, valFraction: 0.15,
    });
    scores.push(mae(await predictMass(r.net, set, split.test), split.test.map((i) => logM[i]!)));
    train += r.train.length / FOLDS;
    r.net.dispose();
  }
  return { mean: mean(scores), std: std(scores), train };
}

/** The cutouts' pixels on network 1's feature grid: per band, the mean and the max of each block. */
function pooledPixels(ds: CutoutDataset, like: LabelledFeatureSet): LabelledFeatureSet {
  const { size, bands } = ds;
  const side = like.index.side;
  const block = size / side;
  const nb = bands.length;
  const channels = 2 * nb;
  const data = new Float32Array(like.index.count * side * side * channels);
  like.index.clusters.forEach((c, i) => {
    const img = ds.readCutout(c.cutoutIndex);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let b = 0; b < nb; b++) {
      let sum = 0;
      let max = Number.NEGATIVE_INFINITY;
      for (let dy = 0; dy < block; dy++) for (let dx = 0; dx < block; dx++) {
        const v = img[((y * block + dy) * size + x * block + dx) * nb + b]!;
        sum += v;
        max = Math.max(max, v);
      }
      const o = ((i * side + y) * side + x) * channels;
      data[o + b] = sum / (block * block);
      data[o + nb + b] = max;
    }
  });
  return { index: { ...like.index, channelsPerBand: 2, channels }, data };
}

/** 5-fold CV MAE of the median log M of the k training clusters nearest in log(count). */
function nearestMedian(counts: readonly number[], k = 40): number {
  const errs: number[] = [];
  for (let f = 0; f < FOLDS; f++) {
    const { train, test } = foldSplit(assignment, f);
    for (const i of test) {
      const near = [...train].sort((a, b) => Math.abs(Math.log(counts[a]!) - Math.log(counts[i]!)) - Math.abs(Math.log(counts[b]!) - Math.log(counts[i]!))).slice(0, k);
      const ms = near.map((j) => logM[j]!).sort((a, b) => a - b);
      errs.push(Math.abs(ms[ms.length >> 1]! - logM[i]!));
    }
  }
  return mean(errs);
}

const catalogPath = join(ws, 'data/sky/catalog.csv');
const catalog = await readClusterCatalog(catalogPath);
if (!catalog.ok) throw new Error(catalog.error);
const rows = new Map(catalog.value.map((r) => [r.id, r]));
/** A count per feature-set cluster, at least 1 (its log is taken). */
const counts = (of: (r: ClusterRow) => number | null) => features.index.clusters.map((c) => {
  const v = of(rows.get(c.id)!);
  if (v === null || !Number.isFinite(v)) throw new Error(`${catalogPath}: cluster ${c.id} has no member count (a simulated sky's catalogue has one)`);
  return Math.max(1, v);
});
const inCell = counts((r) => csvNumber(r.extra['members_in_cell']));
const allMembers = counts((r) => r.membersTrue);
const floor = JSON.parse(readFileSync(join(ws, 'data/sky/floor.json'), 'utf8')) as { maeFloorDex: number; cellMpc: number };

console.log(`${features.index.count} clusters, cutouts ${features.index.size} px over ${floor.cellMpc} Mpc, features ${features.index.side}x${features.index.side}x${features.index.channels}; ${backend.name}; network 2 up to ${values.epochs} epochs, patience ${values.patience}, lr ${values.lr}`);
const show = (label: string, r: { mean: number; std: number; train: number }) =>
  console.log(`${label.padEnd(52)} ${r.mean.toFixed(3)} +- ${r.std.toFixed(3)} dex  (${r.train.toFixed(0)} training clusters a fold)`);
show('network 2 on network 1 features', await crossValidate(features, 1));
show('network 2 on network 1 features, half the clusters', await crossValidate(features, 2));
const cutouts = unwrap(CutoutDataset.open(join(ws, 'data/cutouts')), 'cutouts');
show('network 2 on pooled pixels (no network 1)', await crossValidate(pooledPixels(cutouts, features), 1));
console.log(`${'perfect counter: members inside the cutout cell'.padEnd(52)} ${nearestMedian(inCell).toFixed(3)} dex`);
console.log(`${'perfect counter: all members'.padEnd(52)} ${nearestMedian(allMembers).toFixed(3)} dex`);
console.log(`${'scatter floor (sim-sky)'.padEnd(52)} ${floor.maeFloorDex.toFixed(3)} dex; the goal, 1.15x: ${(1.15 * floor.maeFloorDex).toFixed(3)}`);
