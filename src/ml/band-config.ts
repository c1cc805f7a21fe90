// Network 1's configuration for a cutout dataset and the pretrain params: shared by pretrain-bands
// and its untrained stand-in, so the two save the same architecture and the same input scaling.
import { checkBandNetConfig, type BandNetConfig } from './band-net.js';
import type { CutoutDataset } from './cutouts.js';
import { bandScales, type Normalisation } from './normalise.js';
import type { Result } from '../core/result.js';
import { range } from './rng.js';

export interface BandNetParams {
  readonly width: number;
  readonly featureChannels: number;
  readonly normalisation: Normalisation;
}

export function bandNetConfigFor(ds: CutoutDataset, p: BandNetParams): Result<BandNetConfig> {
  return checkBandNetConfig({
    size: ds.size, bands: [...ds.bands], width: p.width, featureChannels: p.featureChannels, normalisation: p.normalisation,
    // Fixed here, over every cluster, and saved with the model: extract-features and explain must
    // scale each band exactly as training did.
    ...(p.normalisation === 'band' ? { bandScales: bandScales((i, b) => ds.readBand(i, b), range(ds.count), ds.bands.length) } : {}),
  });
}
