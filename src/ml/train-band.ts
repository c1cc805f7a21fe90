// Training network 1 on every (cluster, band) image of a cutout dataset: which band is this?
// Validation holds out whole clusters (all their bands), so the accuracy is on unseen sky.
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from './adam.js';
import { dihedral } from './augment.js';
import { bandNetFeatures, bandNetLogits, type BandNetConfig } from './band-net.js';
import type { CutoutDataset } from './cutouts.js';
import { normaliseBand } from './normalise.js';
import type { ParamStore } from './params.js';
import { deriveSeed, range, Rng } from './rng.js';
import { checkAborted, yieldToEventLoop, type TrainHooks } from './loop.js';

export interface BandTrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Random flips and quarter turns of each training image. */
  augment: boolean;
  /** Fraction of clusters held out for validation accuracy and the confusion matrix. */
  valFraction: number;
}

export interface BandEpoch {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
  /** Training images per second in this epoch (forward + backward + update, data included). */
  imagesPerSecond: number;
}

export type BandTrainHooks = TrainHooks<BandEpoch>;

export interface BandTrainResult {
  history: BandEpoch[];
  /** confusion[true][predicted] counts on the validation clusters after the last epoch. */
  confusion: number[][];
  trainImages: number;
  valImages: number;
  imagesPerSecond: number;
}

/** Normalised single-band images, computed once when the dataset is small enough to keep them. */
class BandImages {
  private readonly cache: Float32Array | undefined;
  private readonly px: number;

  constructor(private readonly ds: CutoutDataset, private readonly cfg: BandNetConfig) {
    this.px = ds.size * ds.size;
    const total = ds.count * ds.bands.length * this.px;
    if (total * 4 <= 1 << 30) {
      this.cache = new Float32Array(total);
      for (let i = 0; i < ds.count; i++) {
        for (let b = 0; b < ds.bands.length; b++) {
          this.cache.set(normaliseBand(ds.readBand(i, b), cfg, b), (i * ds.bands.length + b) * this.px);
        }
      }
    }
  }

  get(i: number, b: number): Float32Array {
    if (this.cache) {
      const o = (i * this.ds.bands.length + b) * this.px;
      return this.cache.subarray(o, o + this.px);
    }
    return normaliseBand(this.ds.readBand(i, b), this.cfg, b);
  }
}

export function splitClusters(count: number, valFraction: number, seed: number): { train: number[]; val: number[] } {
  const order = new Rng(deriveSeed(seed, 'band-val-split')).shuffle(range(count));
  const nVal = valFraction > 0 && count >= 2 ? Math.min(count - 1, Math.max(1, Math.round(count * valFraction))) : 0;
  return { val: order.slice(0, nVal).sort((a, b) => a - b), train: order.slice(nVal) };
}

export async function trainBandNet(
  ds: CutoutDataset, net: ParamStore, cfg: BandNetConfig, opts: BandTrainOptions, hooks: BandTrainHooks = {},
): Promise<BandTrainResult> {
  const nb = ds.bands.length;
  const s = ds.size;
  if (s !== cfg.size || nb !== cfg.bands.length) {
    throw new Error(`network built for ${cfg.size}px x ${cfg.bands.length} bands, dataset has ${s}px x ${nb}`);
  }
  const images = new BandImages(ds, cfg);
  const { train, val } = splitClusters(ds.count, opts.valFraction, opts.seed);
  const pairs = (clusters: number[]) => clusters.flatMap((i) => range(nb).map((b) => [i, b] as const));
  const trainPairs = pairs(train);
  const valPairs = pairs(val);
  if (trainPairs.length === 0) throw new Error('no training images');
  const rng = new Rng(deriveSeed(opts.seed, 'band-train'));
  const optimizer = new FlatAdam(net.list(), opts.lr);
  const stepsPerEpoch = Math.ceil(trainPairs.length / opts.batch);
  const history: BandEpoch[] = [];
  let confusion: number[][] = [];
  let trainSeconds = 0;

  const makeBatch = (chunk: (readonly [number, number])[], augment: boolean) => {
    const x = new Float32Array(chunk.length * s * s);
    const y = new Int32Array(chunk.length);
    chunk.forEach(([i, b], k) => {
      const img = images.get(i, b);
      x.set(augment ? dihedral(img, s, 1, rng.int(8)) : img, k * s * s);
      y[k] = b;
    });
    return { x: tf.tensor4d(x, [chunk.length, s, s, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), nb) as tf.Tensor2D) };
  };

  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      rng.shuffle(trainPairs);
      let lossSum = 0;
      let correct = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        checkAborted(hooks.signal);
        const chunk = trainPairs.slice(step * opts.batch, (step + 1) * opts.batch);
        const { x, y } = makeBatch(chunk, opts.augment);
        let hits: tf.Scalar | undefined;
        const loss = optimizer.minimize(() => {
          const logits = bandNetLogits(net, bandNetFeatures(net, x));
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')) as tf.Scalar);
          return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
        });
        lossSum += (await loss.data())[0]! * chunk.length;
        correct += (await hits!.data())[0]!;
        tf.dispose([x, y, loss, hits!]);
        hooks.onProgress?.((epoch - 1) * stepsPerEpoch + step + 1, opts.epochs * stepsPerEpoch);
        await yieldToEventLoop();
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      const v = await evaluate(net, valPairs, opts.batch, (chunk) => makeBatch(chunk, false), nb, hooks.signal);
      confusion = v.confusion;
      const e: BandEpoch = {
        epoch,
        loss: lossSum / trainPairs.length,
        accuracy: correct / trainPairs.length,
        valLoss: v.loss,
        valAccuracy: v.accuracy,
        seconds,
        imagesPerSecond: trainPairs.length / seconds,
      };
      history.push(e);
      hooks.onEpoch?.(e);
    }
  } finally {
    optimizer.dispose();
  }
  return {
    history,
    confusion,
    trainImages: trainPairs.length,
    valImages: valPairs.length,
    imagesPerSecond: (trainPairs.length * opts.epochs) / Math.max(trainSeconds, 1e-9),
  };
}

async function evaluate(
  net: ParamStore,
  pairs: (readonly [number, number])[],
  batch: number,
  makeBatch: (chunk: (readonly [number, number])[]) => { x: tf.Tensor4D; y: tf.Tensor2D },
  nb: number,
  signal: AbortSignal | undefined,
): Promise<{ loss: number; accuracy: number; confusion: number[][] }> {
  const confusion = range(nb).map(() => new Array<number>(nb).fill(0));
  if (pairs.length === 0) return { loss: Number.NaN, accuracy: Number.NaN, confusion };
  let lossSum = 0;
  let correct = 0;
  for (let o = 0; o < pairs.length; o += batch) {
    checkAborted(signal);
    const chunk = pairs.slice(o, o + batch);
    const { x, y } = makeBatch(chunk);
    const [loss, pred] = tf.tidy(() => {
      const logits = bandNetLogits(net, bandNetFeatures(net, x));
      return [tf.losses.softmaxCrossEntropy(y, logits), tf.argMax(logits, 1)];
    });
    lossSum += (await loss.data())[0]! * chunk.length;
    const p = await pred.data();
    chunk.forEach(([, b], k) => {
      const q = p[k]!;
      confusion[b]![q]! += 1;
      if (q === b) correct++;
    });
    tf.dispose([x, y, loss, pred]);
    await yieldToEventLoop();
  }
  return { loss: lossSum / pairs.length, accuracy: correct / pairs.length, confusion };
}
