// Stage extract-features: network 1 frozen, run on each band of `features.bands` (all cutout bands
// by default) of every cluster, labelled or not (the pretext task trains on all); the per-band feature maps are stored concatenated
// (band-major channels, in the cutouts' band order) for network 2.
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { loadBackendForStage } from '../src/ml/backend.js';
import { BAND_NET_KIND, featureSide, type BandNetConfig } from '../src/ml/band-net.js';
import { CutoutDataset } from '../src/ml/cutouts.js';
import { extractFeatureMaps } from '../src/ml/extract.js';
import { FEATURES_FORMAT, selectFeatureBands, writeFeatures } from '../src/ml/features.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { ParamStore } from '../src/ml/params.js';
import { unwrap } from '../src/core/result.js';
import { FeaturesParams } from '../src/ml/schemas.js';

export default defineStage({
  description: 'Network 1 frozen: per-band feature maps (features.bands) of every cluster, for network 2.',
  // Optional so a pipeline that declares no `features` group gets every band, as before the group existed.
  params: Type.Object({ features: Type.Optional(FeaturesParams) }),
  async run(ctx) {
    const backend = await loadBackendForStage(ctx.backend);
    ctx.log(`backend ${backend.name} (${backend.version})`);
    const inputs = locateInputs(ctx.deps);
    const cutoutsDir = unwrap(required(inputs, 'cutouts', ctx.deps), 'extract-features');
    const modelDir = unwrap(required(inputs, 'bandNet', ctx.deps), 'extract-features');
    const ds = unwrap(CutoutDataset.open(cutoutsDir), 'extract-features');
    const { store, config } = unwrap(await ParamStore.load<BandNetConfig>(modelDir, BAND_NET_KIND), 'extract-features');
    try {
      if (config.size !== ds.size || config.bands.join() !== ds.bands.join()) {
        throw new Error(`extract-features: network 1 was trained on ${config.size} px ${config.bands.join('')}, ` +
          `the cutouts are ${ds.size} px ${ds.bands.join('')}`);
      }
      const used = unwrap(selectFeatureBands(ds.bands, ctx.params.features?.bands), 'extract-features');
      const bands = used.map((b) => ds.bands[b]!);
      if (used.length < ds.bands.length) ctx.log(`features of band${bands.length > 1 ? 's' : ''} ${bands.join(', ')} of ${ds.bands.join(', ')}`);
      const labelled = ds.index.clusters.filter((c) => c.logM500 !== null).length;
      if (labelled === 0) throw new Error(`extract-features: no cluster in ${cutoutsDir} has a logM500`);
      ctx.log(`${labelled} of ${ds.count} clusters are labelled; features of all of them`);
      const all = ds.index.clusters.map((_, i) => i);
      const t0 = performance.now();
      const data = await extractFeatureMaps(ds, store, config, all, 32, {
        bands: used, signal: ctx.signal, onProgress: (d, t) => ctx.progress(d, t),
      });
      const seconds = (performance.now() - t0) / 1000;
      ctx.metric('images_per_s', (all.length * used.length) / seconds);
      const side = featureSide(ds.size);
      await writeFeatures(ctx.outDir, {
        index: {
          format: FEATURES_FORMAT, count: all.length, side, bands,
          channelsPerBand: config.featureChannels, channels: config.featureChannels * bands.length,
          size: ds.size, normalisation: config.normalisation, backend: `${backend.name} (${backend.version})`,
          file: 'features.f32',
          clusters: all.map((i) => {
            const c = ds.index.clusters[i]!;
            return { id: c.id, cutoutIndex: i, logM500: c.logM500, richness: c.richness, z: c.z };
          }),
        },
        data,
      });
      ctx.log(`wrote ${all.length} x ${side}x${side}x${config.featureChannels * bands.length} feature maps in ${seconds.toFixed(1)} s`);
    } finally {
      store.dispose();
      ds.close();
    }
  },
});
