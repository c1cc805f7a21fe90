// Explanations of one cluster's mass prediction: integrated gradients through both networks to the
// normalised input pixels of every band, Grad-CAM on network 2's last convolution, and the two
// joined.
//
// Joining: Grad-CAM says *where* (at 1/8 resolution) network 2's evidence for a higher mass sits;
// integrated gradients say *which pixels, in which band* moved the prediction and by how much, with
// sign. The joined map of band b is IG_b(p) x CAM(p) / max CAM: the per-pixel attributions kept
// where network 2 looks, faded where it does not (CAM bilinearly upsampled to the cutout size).
// It is a display, not an attribution: unlike IG it does not sum to F(x) - F(baseline).
import * as tf from '@tensorflow/tfjs';
import { gradCam, integratedGradients, upsample } from './attribution.js';
import { lastConvFromPixels, predictFromPixels } from './composite.js';
import { massNetHead } from './mass-net.js';
import type { ParamStore } from './params.js';

export interface Explanation {
  size: number;
  bands: string[];
  /** size x size x bands: integrated gradients, in dex of log M per pixel. */
  ig: Float32Array;
  /** size x size: Grad-CAM upsampled to the cutout size. */
  cam: Float32Array;
  /** size x size x bands: IG x CAM / max CAM. */
  joined: Float32Array;
  /** Sum of IG over each band's pixels: how much each band moved the prediction from the baseline. */
  bandTotals: number[];
  fx: number;
  fBaseline: number;
  igSum: number;
  completenessError: number;
}

export async function explainCluster(
  bandNet: ParamStore, massNet: ParamStore, pixels: Float32Array, size: number, bands: string[],
  opts: { steps: number; batch: number; signal?: AbortSignal },
): Promise<Explanation> {
  const nb = bands.length;
  const ig = await integratedGradients((x) => predictFromPixels(bandNet, massNet, x), pixels, [size, size, nb], opts);
  const x = tf.tensor4d(pixels, [1, size, size, nb]);
  const camSmall = await gradCam((t) => lastConvFromPixels(bandNet, massNet, t), (a) => massNetHead(massNet, a), x);
  x.dispose();
  const cam = upsample(camSmall.map, camSmall.side, size);
  let camMax = 0;
  for (const v of cam) camMax = Math.max(camMax, v);
  const joined = new Float32Array(ig.attributions.length);
  const bandTotals = new Array<number>(nb).fill(0);
  for (let p = 0; p < size * size; p++) {
    const w = camMax > 0 ? cam[p]! / camMax : 0;
    for (let b = 0; b < nb; b++) {
      const a = ig.attributions[p * nb + b]!;
      joined[p * nb + b] = a * w;
      bandTotals[b]! += a;
    }
  }
  return {
    size, bands, ig: ig.attributions, cam, joined, bandTotals,
    fx: ig.fx, fBaseline: ig.fBaseline, igSum: ig.sum, completenessError: ig.completenessError,
  };
}

/** Channel b of an H x W x C map. */
export function channel(map: Float32Array, channels: number, b: number): Float32Array {
  const out = new Float32Array(map.length / channels);
  for (let p = 0; p < out.length; p++) out[p] = map[p * channels + b]!;
  return out;
}

/** Mean over channels of an H x W x C map. */
export function channelMean(map: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(map.length / channels);
  for (let p = 0; p < out.length; p++) {
    let s = 0;
    for (let b = 0; b < channels; b++) s += map[p * channels + b]!;
    out[p] = s / channels;
  }
  return out;
}
