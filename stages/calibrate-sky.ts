// calibrate-sky: fits the simulated sky's labelled sample and member-count relation to a real
// labelled catalogue (build-catalog's labelled.csv), so the simulated richness baseline scores what
// the real one does (src/astro/sim/calibrate.ts; docs/astro.md, "Calibrating the sky"). Writes
// calibration.json (the fitted params with the real and simulated statistics) and sim-params.yaml
// (the `sim:` entries to paste into a pipeline).
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readClusterCatalog } from '../src/astro/cluster-catalog.js';
import { calibrateSky, CALIBRATION_DEFAULTS } from '../src/astro/sim/calibrate.js';
import { resolveParams } from '../src/astro/params.js';
import { unwrap } from '../src/core/result.js';
import { richnessBaseline } from '../src/ml/cv-summary.js';
import { assignFolds } from '../src/ml/folds.js';
import { mean, std } from '../src/ml/stats.js';
import { defineStage } from '../src/stage/define.js';

export const calibrateParams = Type.Object({
  knots: Type.Integer({ default: CALIBRATION_DEFAULTS.knots, minimum: 2, description: 'quantile knots of the labelled log M500 and z distributions' }),
  draws: Type.Integer({ default: CALIBRATION_DEFAULTS.draws, minimum: 100, description: 'simulated labelled clusters per evaluation of the fit' }),
  seed: Type.Integer({ default: CALIBRATION_DEFAULTS.seed, description: 'seed of the simulated labelled samples' }),
  richnessPivot: Type.Number({ default: CALIBRATION_DEFAULTS.richnessPivot, exclusiveMinimum: 0, description: 'pivot M500 (Msun) of the fitted relation; keep equal to sim.richnessPivot' }),
  richnessNoise: Type.Number({ default: CALIBRATION_DEFAULTS.richnessNoise, minimum: 0, description: 'the catalogue richness noise assumed (kept, not fitted); keep equal to sim.richnessNoise' }),
  folds: Type.Integer({ default: 5, minimum: 2, description: 'folds of the real richness baseline reported beside the fit (as cross-validate scores it)' }),
  cvSeed: Type.Integer({ default: 1, description: 'fold seed of that report' }),
});

const round = (x: number, d: number) => Number(x.toFixed(d));

export default defineStage({
  description: 'Calibrate the simulated sky on a real labelled catalogue: labelled mass/redshift distributions and richness scatter',
  params: Type.Object({ calibrate: Type.Optional(Type.Partial(calibrateParams)) }),
  async run(ctx) {
    const p = resolveParams(calibrateParams, ctx.params.calibrate);
    const file = ctx.deps.map((d) => (existsSync(d) && statSync(d).isDirectory() ? join(d, 'labelled.csv') : d)).find((f) => existsSync(f) && f.endsWith('.csv'));
    if (!file) throw new Error(`calibrate-sky: none of the deps (${ctx.deps.join(', ') || 'none declared'}) is or holds a labelled.csv from build-catalog`);
    const rows = unwrap(await readClusterCatalog(file), 'calibrate-sky');
    const real = rows.flatMap((r) => (r.logM500 !== null && r.richness !== null ? [{ id: r.id, logM500: r.logM500, z: r.z, richness: r.richness }] : []));
    ctx.log(`${real.length} labelled clusters with richness in ${file}`);
    const cal = calibrateSky(real, p);
    // The real baseline as cross-validate scores it (held-out folds), next to the in-sample figure the fit matches.
    const assignment = unwrap(assignFolds(real.map((c) => c.logM500), p.folds, p.cvSeed), 'calibrate-sky');
    const folds = Array.from({ length: p.folds }, (_, f) => richnessBaseline(real, assignment, f)?.mae ?? Number.NaN);
    const sim = {
      richnessNorm: round(cal.richnessNorm, 2), richnessPivot: cal.richnessPivot, richnessSlope: round(cal.richnessSlope, 3),
      richnessScatter: round(cal.richnessScatter, 3), richnessNoise: cal.richnessNoise,
      labelledLogM: cal.labelledLogM.map((v) => round(v, 3)), labelledZ: cal.labelledZ.map((v) => round(v, 3)),
    };
    await mkdir(ctx.outDir, { recursive: true });
    await writeFile(join(ctx.outDir, 'calibration.json'), JSON.stringify({
      source: file, ...cal, realCv: { folds: p.folds, seed: p.cvSeed, mae: folds, mean: mean(folds), std: std(folds) }, sim,
    }, null, 2) + '\n');
    const yaml = Object.entries(sim).map(([k, v]) => `    ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : Math.abs(v) >= 1e6 ? v.toExponential() : v}`).join('\n');
    await writeFile(join(ctx.outDir, 'sim-params.yaml'), `# calibrate-sky on ${real.length} labelled clusters (${file})\n  sim:\n${yaml}\n`);
    ctx.metric('real_richness_mae', cal.real.baselineMae);
    ctx.metric('real_richness_mae_cv', mean(folds));
    ctx.metric('real_richness_mae_cv_std', std(folds));
    ctx.metric('sim_richness_mae', cal.sim.baselineMae);
    ctx.metric('richness_scatter', cal.richnessScatter);
    ctx.metric('richness_slope', cal.richnessSlope);
    ctx.metric('richness_norm', cal.richnessNorm);
    ctx.log(`richness baseline: real ${cal.real.baselineMae.toFixed(4)} dex in sample (${mean(folds).toFixed(3)} +- ${std(folds).toFixed(3)} over ${p.folds} folds), ` +
      `simulated ${cal.sim.baselineMae.toFixed(4)}; N ~ ${cal.richnessNorm.toFixed(1)} (M/${cal.richnessPivot.toExponential(0)})^${cal.richnessSlope.toFixed(3)}, scatter ${cal.richnessScatter.toFixed(3)}`);
    ctx.log(`sim params: ${join(ctx.outDir, 'sim-params.yaml')}`);
  },
});
