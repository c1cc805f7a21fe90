// Stage explain: for the N best- and N worst-predicted clusters of the cross-validation (each with
// the fold model that predicted it, so it never saw the cluster in training), integrated gradients
// through both networks to the input pixels, Grad-CAM of network 2's last convolution, the two
// joined (src/ml/explain.ts), as PNG overlays per band plus band-averaged maps. Only the bands whose
// features network 2 was trained on (the feature index's bands) are differentiated and drawn.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { loadBackendForStage } from '../src/ml/backend.js';
import { BAND_NET_KIND, type BandNetConfig } from '../src/ml/band-net.js';
import { CutoutDataset } from '../src/ml/cutouts.js';
import type { CvSummary } from '../src/ml/cv-summary.js';
import { explainCluster } from '../src/ml/explain.js';
import { bandAverageFigure, clusterFigure, type ExplainedCluster } from '../src/ml/explain-figures.js';
import { normalisedPixels } from '../src/ml/extract.js';
import { labelledOnly, readFeatures } from '../src/ml/features.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { MASS_NET_KIND, type MassNetConfig } from '../src/ml/mass-net.js';
import { ParamStore } from '../src/ml/params.js';
import { stageFailure, unwrap } from '../src/core/result.js';
import { EXPLAIN_DEFAULTS, ExplainParams } from '../src/ml/schemas.js';

export default defineStage({
  description: 'Integrated gradients x Grad-CAM overlays for the best- and worst-predicted clusters.',
  params: Type.Object({ explain: ExplainParams }),
  async run(ctx) {
    const p = { ...EXPLAIN_DEFAULTS, ...ctx.params.explain };
    const backend = await loadBackendForStage(ctx.backend);
    ctx.log(`backend ${backend.name} (${backend.version})`);
    const inputs = locateInputs(ctx.deps);
    const ds = unwrap(CutoutDataset.open(unwrap(required(inputs, 'cutouts', ctx.deps), 'explain')), 'explain');
    const set = unwrap(labelledOnly(unwrap(await readFeatures(unwrap(required(inputs, 'features', ctx.deps), 'explain')), 'explain')), 'explain');
    const cvDir = unwrap(required(inputs, 'cv', ctx.deps), 'explain');
    const cv = JSON.parse(await readFile(join(cvDir, 'summary.json'), 'utf8')) as CvSummary;
    const band = unwrap(await ParamStore.load<BandNetConfig>(unwrap(required(inputs, 'bandNet', ctx.deps), 'explain'), BAND_NET_KIND), 'explain');
    // The networks whose predictions cv.predictions holds: the headline (first) variant's.
    const variant = cv.variants?.[0]?.name ?? 'paper';
    if (variant === 'hybrid') {
      throw stageFailure('explain: the headline variant is hybrid, whose richness input the pixel attributions do not cover; list paper or pretext first in compare.variants');
    }
    const folds = inputs.massVariants.get(variant) ?? new Map<number, string>();
    const massNets = new Map<number, ParamStore>();
    try {
      const byError = [...cv.predictions].sort((a, b) => Math.abs(a.pred - a.truth) - Math.abs(b.pred - b.truth));
      const n = Math.min(p.clusters, Math.floor(byError.length / 2));
      if (n < 1) throw new Error(`explain: the cross-validation summary has ${byError.length} predictions; need at least 2`);
      const chosen = [
        ...byError.slice(0, n).map((q, i) => ({ ...q, label: `best ${i + 1}` })),
        ...byError.slice(-n).reverse().map((q, i) => ({ ...q, label: `worst ${i + 1}` })),
      ];
      const cutoutIndex = new Map(set.index.clusters.map((c) => [c.id, c.cutoutIndex]));
      // The pixels of the bands network 2 saw, in the features' channel order.
      const missing = set.index.bands.filter((b) => !ds.bands.includes(b));
      if (missing.length > 0) {
        throw stageFailure(`explain: the features are of band${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which the cutouts (${ds.bands.join(', ')}) do not have`);
      }
      const used = set.index.bands.map((b) => ds.bands.indexOf(b));
      if (used.length < ds.bands.length) ctx.log(`network 2 saw band${used.length > 1 ? 's' : ''} ${set.index.bands.join(', ')} of ${ds.bands.join(', ')}: attributions to those only`);
      await mkdir(ctx.outDir, { recursive: true });
      const done: ExplainedCluster[] = [];
      const records = [];
      for (const [k, c] of chosen.entries()) {
        let net = massNets.get(c.fold);
        if (!net) {
          const dir = folds.get(c.fold);
          if (!dir) throw new Error(`explain: no fit-mass output for variant ${variant}, fold ${c.fold} among the deps`);
          const loaded = unwrap(await ParamStore.load<MassNetConfig>(dir, MASS_NET_KIND), 'explain');
          net = loaded.store;
          massNets.set(c.fold, net);
          if (loaded.config.channels !== set.index.channels) {
            throw stageFailure(`explain: fold ${c.fold}'s network 2 takes ${loaded.config.channels} feature channels, ` +
              `the features have ${set.index.channels} (${set.index.bands.join(', ')}); was fit-mass run on these features?`);
          }
        }
        const ci = cutoutIndex.get(c.id);
        if (ci === undefined || ds.index.clusters[ci]?.id !== c.id) {
          throw new Error(`explain: cluster ${c.id} of the cross-validation is not at its recorded place in the cutouts`);
        }
        const pixels = normalisedPixels(ds, ci, band.config, used);
        const e = await explainCluster(band.store, net, pixels, ds.size, [...set.index.bands], { steps: p.steps, batch: p.batch, signal: ctx.signal });
        const rel = e.completenessError / Math.max(Math.abs(e.fx - e.fBaseline), 1e-9);
        ctx.log(`${c.label} ${c.id} (fold ${c.fold}): true ${c.truth.toFixed(3)} pred ${c.pred.toFixed(3)}; ` +
          `IG sum ${e.igSum.toFixed(4)} vs F(x)-F(0) ${(e.fx - e.fBaseline).toFixed(4)} (completeness error ${(100 * rel).toFixed(2)}%)`);
        if (Math.abs(e.fx - c.pred) > 1e-3) {
          ctx.log(`warning: ${c.id}: the composed networks give ${e.fx.toFixed(4)}, the fold model gave ${c.pred.toFixed(4)} (features from another backend?)`);
        }
        const ec: ExplainedCluster = { label: c.label, id: c.id, truth: c.truth, pred: c.pred, pixels, e };
        done.push(ec);
        const file = join(ctx.outDir, `${c.label.replace(' ', '-')}-${c.id}.png`);
        await writeFile(file, await clusterFigure(ec));
        ctx.artifact(file);
        records.push({
          label: c.label, id: c.id, fold: c.fold, truth: c.truth, pred: c.pred, fx: e.fx, fBaseline: e.fBaseline,
          igSum: e.igSum, completenessError: e.completenessError, completenessRelative: rel,
          bandTotals: Object.fromEntries(e.bands.map((b, i) => [b, e.bandTotals[i]])),
        });
        ctx.metric('completeness_rel_error', rel, k);
        ctx.progress(k + 1, chosen.length);
      }
      const avg = join(ctx.outDir, 'band-average.png');
      await writeFile(avg, await bandAverageFigure(done));
      ctx.artifact(avg);
      const out = join(ctx.outDir, 'attributions.json');
      await writeFile(out, JSON.stringify({ steps: p.steps, baseline: 'zeros (normalised units)', clusters: records }, null, 2) + '\n');
      ctx.artifact(out);
      ctx.metric('completeness_rel_error_max', Math.max(...records.map((r) => r.completenessRelative)));
    } finally {
      band.store.dispose();
      for (const m of massNets.values()) m.dispose();
      ds.close();
    }
  },
});
