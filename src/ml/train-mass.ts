// Training network 2 for one cross-validation fold: L1 loss on log10 M500 over the training
// clusters, early stopping on a validation split carved out of the training folds (never the test
// fold, which must stay unseen until it is scored), best-epoch weights restored at the end.
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from './adam.js';
import { dihedral } from './augment.js';
import { gatherMaps, mapLength, type FeatureSet, type LabelledFeatureSet } from './features.js';
import { checkAborted, yieldToEventLoop, type TrainHooks } from './loop.js';
import { initMassNet, massNetPredict, trunkDigest, type MassNetConfig, type TrunkDigest } from './mass-net.js';
import type { ParamStore } from './params.js';
import { deriveSeed, Rng } from './rng.js';
import { mae } from './stats.js';
import { assignFolds } from './folds.js';

export interface MassTrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  /** Epochs without a better validation MAE before stopping; 0 disables early stopping. */
  patience: number;
  seed: number;
  hidden: number;
  /** Flips and quarter turns of the feature maps (the mass does not depend on orientation). */
  augment: boolean;
  /** Fraction of the training clusters held out for early stopping. */
  valFraction: number;
}

export interface MassEpoch {
  epoch: number;
  trainMae: number;
  valMae: number;
  seconds: number;
}

export type MassTrainHooks = TrainHooks<MassEpoch>;

/**
 * Where training starts: seeded weights (`scratch`, the paper's protocol), a copy of the pretext
 * network (trunk as trained on log richness; the dense read-out rescaled by a least-squares fit of
 * the target on the pretext predictions over the fit set), or seeded weights with log richness as a
 * second input (`hybrid`, its read-out starting at the richness baseline's fit).
 */
export type MassStart =
  | { kind: 'scratch' }
  | { kind: 'pretext'; net: ParamStore; config: MassNetConfig }
  | { kind: 'hybrid' };

export interface MassTrainResult {
  net: ParamStore;
  config: MassNetConfig;
  /** The trunk the training started from (for a pretext start: the pretext network's trunk). */
  startDigest: TrunkDigest;
  history: MassEpoch[];
  bestEpoch: number;
  stoppedEarly: boolean;
  train: number[];
  val: number[];
  imagesPerSecond: number;
}

/** Splits training clusters into fit and early-stopping sets, stratified by mass like the folds. */
export function validationSplit(logM: readonly number[], train: readonly number[], fraction: number, seed: number) {
  if (fraction <= 0 || train.length < 4) return { fit: [...train], val: [] as number[] };
  const k = Math.max(2, Math.round(1 / fraction));
  const r = assignFolds(train.map((i) => logM[i]!), k, deriveSeed(seed, 'early-stopping'));
  if (!r.ok) return { fit: [...train], val: [] as number[] };
  return { fit: train.filter((_, j) => r.value[j] !== 0), val: train.filter((_, j) => r.value[j] === 0) };
}

/** Per-channel mean and 1/std over the given clusters' feature maps. */
export function channelStandardisation(set: FeatureSet, idx: readonly number[]): { shift: Float32Array; scale: Float32Array } {
  const c = set.index.channels;
  const n = mapLength(set.index);
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let count = 0;
  for (const i of idx) {
    const m = set.data.subarray(i * n, (i + 1) * n);
    for (let p = 0; p < m.length; p += c) {
      for (let ch = 0; ch < c; ch++) {
        const v = m[p + ch]!;
        sum[ch]! += v;
        sq[ch]! += v * v;
      }
      count++;
    }
  }
  const shift = new Float32Array(c);
  const scale = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    const mu = count ? sum[ch]! / count : 0;
    const variance = count ? Math.max(sq[ch]! / count - mu * mu, 0) : 0;
    shift[ch] = mu;
    // A channel that never fires (dead ReLU) stays at zero instead of being blown up.
    scale[ch] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  }
  return { shift, scale };
}

/** log10 richness of the given clusters, for the hybrid's second input; an error names one without. */
export function logRichness(set: FeatureSet, idx: readonly number[]): Float32Array {
  return Float32Array.from(idx, (i) => {
    const c = set.index.clusters[i]!;
    if (!(c.richness !== null && c.richness > 0)) throw new Error(`cluster ${c.id} has no positive richness; the hybrid needs one for every cluster`);
    return Math.log10(c.richness);
  });
}

const richnessTensor = (net: ParamStore, set: FeatureSet, idx: readonly number[]) =>
  (net.has('richness/shift') ? tf.tensor1d(logRichness(set, idx)) : undefined);

export async function predictMass(net: ParamStore, set: FeatureSet, idx: readonly number[], batch = 64): Promise<Float64Array> {
  const { side, channels } = set.index;
  const out = new Float64Array(idx.length);
  for (let o = 0; o < idx.length; o += batch) {
    const chunk = idx.slice(o, o + batch);
    const x = tf.tensor4d(gatherMaps(set, chunk), [chunk.length, side, side, channels]);
    const r = richnessTensor(net, set, chunk);
    const y = tf.tidy(() => massNetPredict(net, x, r));
    out.set(await y.data(), o);
    tf.dispose([x, y, ...(r ? [r] : [])]);
  }
  return out;
}

/** Least squares y = a + b x. */
function lineFit(x: ArrayLike<number>, y: readonly number[]): { a: number; b: number } {
  const n = y.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]! / n; my += y[i]! / n; }
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) { sxx += (x[i]! - mx) ** 2; sxy += (x[i]! - mx) * (y[i]! - my); }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

async function startNet(set: FeatureSet, target: readonly number[], fit: readonly number[], opts: MassTrainOptions, start: MassStart) {
  const { side, channels } = set.index;
  const mean = fit.reduce((s, i) => s + target[i]!, 0) / fit.length;
  if (start.kind === 'pretext') {
    const c = start.config;
    if (c.side !== side || c.channels !== channels) {
      throw new Error(`the pretext network takes ${c.side}x${c.side}x${c.channels} maps, the features are ${side}x${side}x${channels}`);
    }
    const net = start.net.clone();
    const { a, b } = lineFit(await predictMass(net, set, fit), fit.map((i) => target[i]!));
    const w = net.get('out/w');
    const ob = net.get('out/b');
    w.assign(tf.mul(w, b));
    ob.assign(tf.add(tf.mul(ob, b), a));
    return { net, config: { ...c, offset: (await ob.data())[0]! } };
  }
  const config: MassNetConfig = { side, channels, hidden: opts.hidden, offset: mean, ...(start.kind === 'hybrid' ? { richnessInput: true } : {}) };
  const norm = channelStandardisation(set, fit);
  let richness;
  if (start.kind === 'hybrid') {
    const lr = logRichness(set, fit);
    const mu = lr.reduce((s, v) => s + v, 0) / lr.length;
    const sd = Math.sqrt(lr.reduce((s, v) => s + (v - mu) ** 2, 0) / lr.length) || 1;
    const { a, b } = lineFit(lr.map((v) => (v - mu) / sd), fit.map((i) => target[i]!));
    config.offset = a;
    richness = { shift: mu, scale: 1 / sd, weight: b };
  }
  return { net: initMassNet(config, deriveSeed(opts.seed, 'mass-init'), norm.shift, norm.scale, richness), config };
}

/** Network 2 on the labelled clusters' log10 M500. */
export function trainMassNet(
  set: LabelledFeatureSet, train: readonly number[], opts: MassTrainOptions, hooks: MassTrainHooks = {}, start: MassStart = { kind: 'scratch' },
): Promise<MassTrainResult> {
  return trainRegressor(set, set.index.clusters.map((c) => c.logM500), train, opts, hooks, start);
}

/**
 * Network 2's architecture regressing any per-cluster target (`target[i]` for cluster i of the set):
 * log10 M500 for the mass fits, log10 richness for the pretext task.
 */
export async function trainRegressor(
  set: FeatureSet, target: readonly number[], train: readonly number[], opts: MassTrainOptions, hooks: MassTrainHooks = {}, start: MassStart = { kind: 'scratch' },
): Promise<MassTrainResult> {
  const logM = target;
  const { fit, val } = validationSplit(logM, train, opts.valFraction, opts.seed);
  if (fit.length === 0) throw new Error('no clusters to train on');
  const { side, channels } = set.index;
  const { net, config } = await startNet(set, target, fit, opts, start);
  const startDigest = await trunkDigest(net);
  const rng = new Rng(deriveSeed(opts.seed, 'mass-shuffle'));
  const optimizer = new FlatAdam(net.list(), opts.lr);
  const n = mapLength(set.index);
  const steps = Math.ceil(fit.length / opts.batch);
  const history: MassEpoch[] = [];
  const order = [...fit];
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: Map<string, tf.Tensor> | undefined;
  let stoppedEarly = false;
  let trainSeconds = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      rng.shuffle(order);
      let absSum = 0;
      for (let step = 0; step < steps; step++) {
        checkAborted(hooks.signal);
        const chunk = order.slice(step * opts.batch, (step + 1) * opts.batch);
        const xs = new Float32Array(chunk.length * n);
        chunk.forEach((i, k) => {
          const m = set.data.subarray(i * n, (i + 1) * n);
          xs.set(opts.augment ? dihedral(m, side, channels, rng.int(8)) : m, k * n);
        });
        const x = tf.tensor4d(xs, [chunk.length, side, side, channels]);
        const y = tf.tensor1d(chunk.map((i) => logM[i]!));
        const r = richnessTensor(net, set, chunk);
        const loss = optimizer.minimize(
          () => tf.mean(tf.abs(tf.sub(massNetPredict(net, x, r), y))) as tf.Scalar,
        );
        absSum += (await loss.data())[0]! * chunk.length;
        tf.dispose([x, y, loss, ...(r ? [r] : [])]);
        hooks.onProgress?.((epoch - 1) * steps + step + 1, opts.epochs * steps);
        await yieldToEventLoop();
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      const valMae = val.length ? mae(await predictMass(net, set, val), val.map((i) => logM[i]!)) : Number.NaN;
      const e: MassEpoch = { epoch, trainMae: absSum / fit.length, valMae, seconds };
      history.push(e);
      hooks.onEpoch?.(e);
      if (!val.length) continue;
      if (valMae < best) {
        best = valMae;
        bestEpoch = epoch;
        if (bestWeights) tf.dispose([...bestWeights.values()]);
        bestWeights = net.snapshot();
      } else if (opts.patience > 0 && epoch - bestEpoch >= opts.patience) {
        stoppedEarly = true;
        break;
      }
    }
    if (bestWeights) net.restore(bestWeights);
  } finally {
    if (bestWeights) tf.dispose([...bestWeights.values()]);
    optimizer.dispose();
  }
  return {
    net, config, startDigest, history,
    bestEpoch: bestEpoch || history.length,
    stoppedEarly, train: fit, val,
    imagesPerSecond: (fit.length * history.length) / Math.max(trainSeconds, 1e-9),
  };
}
