// sim-sky: the simulated data source. Clusters with known M500 and z, their red-sequence members,
// field galaxies and stars, drawn with the PSF, sky noise and calibration measured on a real DR12
// frame, written as DR12-layout frames plus the truth catalogue and the scatter floor
// (docs/formats.md, "Simulated sky"; the model is described in docs/astro.md).
import { mkdir } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import { resolveParams } from '../src/astro/params.js';
import { simulateSky } from '../src/astro/sim/sky.js';
import { defineStage } from '../src/stage/define.js';

const Band = Type.Union([Type.Literal('u'), Type.Literal('g'), Type.Literal('r'), Type.Literal('i'), Type.Literal('z')]);

export const simParams = Type.Object({
  clusters: Type.Integer({ default: 600, minimum: 1, description: 'number of clusters' }),
  seed: Type.Integer({ default: 7, description: 'random seed: the same seed gives byte-identical frames' }),
  zMin: Type.Number({ default: 0.1, exclusiveMinimum: 0, description: 'lowest cluster redshift' }),
  zMax: Type.Number({ default: 0.5, description: 'highest cluster redshift' }),
  zDistribution: Type.Union([Type.Literal('volume'), Type.Literal('uniform')], { default: 'volume', description: 'redshifts uniform in comoving volume, or uniform in z' }),
  logMMin: Type.Number({ default: 13.9, description: 'lowest log10(M500/Msun)' }),
  logMMax: Type.Number({ default: 15.3, description: 'highest log10(M500/Msun)' }),
  massSlope: Type.Number({ default: 0.8, description: 'p(log M) ~ 10^(-massSlope * log M): more low-mass clusters' }),
  richnessNorm: Type.Number({ default: 20, description: 'mean member count (red sequence, > 0.2 L*) at the pivot mass' }),
  richnessPivot: Type.Number({ default: 1e14, description: 'pivot M500 in Msun' }),
  richnessSlope: Type.Number({ default: 0.9, description: 'mean members ~ (M500 / pivot)^slope' }),
  richnessScatter: Type.Number({ default: 0.25, minimum: 0, description: 'log-normal scatter (in ln) of the member count at fixed mass, on top of Poisson' }),
  richnessNoise: Type.Number({ default: 0.1, minimum: 0, description: 'log-normal scatter of the catalogue richness around the true member count' }),
  concentration: Type.Number({ default: 3, exclusiveMinimum: 0, description: 'NFW concentration of the member distribution (truncated at R500)' }),
  lfAlpha: Type.Number({ default: -1, description: 'faint-end slope of the members’ Schechter luminosity function' }),
  galaxyDensity: Type.Number({ default: 2500, minimum: 0, description: 'field galaxies per deg^2 per mag at r = 20' }),
  starDensity: Type.Number({ default: 500, minimum: 0, description: 'stars per deg^2 per mag at r = 20' }),
  faintLimit: Type.Number({ default: 23.5, description: 'faintest r magnitude of field galaxies and stars' }),
  cellMpc: Type.Number({ default: 0.5, exclusiveMinimum: 0, description: 'side (Mpc) of the sky cell each cluster owns; keep equal to cutout.sizeMpc' }),
  labelled: Type.Integer({ default: 0, minimum: 0, description: 'how many clusters carry a mass label (the rest only richness, as most redMaPPer clusters); 0: all' }),
  labelledLogM: Type.Array(Type.Number(), { default: [], description: 'quantile knots (equally spaced in probability) of the labelled clusters\' log10 M500, from calibrate-sky; empty: drawn like the rest' }),
  labelledZ: Type.Array(Type.Number(), { default: [], description: 'quantile knots of the labelled clusters\' redshifts, from calibrate-sky; empty: drawn like the rest' }),
  floorDraws: Type.Integer({ default: 100000, minimum: 1000, description: 'Monte Carlo draws for the population and in-cutout floors' }),
  bands: Type.Array(Band, { default: ['u', 'g', 'r', 'i', 'z'], minItems: 1, uniqueItems: true, description: 'bands to write' }),
  run: Type.Integer({ default: 9901, minimum: 1, maximum: 999999, description: 'run number of the simulated fields (above any real SDSS run)' }),
  ra0: Type.Number({ default: 10, description: 'RA (deg) of the first simulated field' }),
  dec0: Type.Number({ default: 0, description: 'Dec (deg) of the middle of the simulated camcols' }),
});

// Every field optional in the stage schema: a pipeline sets only what it changes; run() fills the defaults.
const params = Type.Object({ sim: Type.Optional(Type.Partial(simParams)) });

export default defineStage({
  description: 'Simulated SDSS sky: clusters with known mass in DR12-layout frames, truth catalogue, scatter floor',
  params,
  async run(ctx) {
    const p = resolveParams(simParams, ctx.params.sim);
    await mkdir(ctx.outDir, { recursive: true });
    const r = await simulateSky(p, ctx.outDir, { log: (m) => ctx.log(m), progress: (d, t) => ctx.progress(d, t), signal: ctx.signal });
    ctx.metric('sim.clusters', r.clusters);
    ctx.metric('sim.labelled', r.labelled);
    ctx.metric('sim.fields', r.fields);
    ctx.metric('sim.frames', r.frames);
    ctx.metric('sim.mae_floor_dex', r.floor.maeFloorDex);
    ctx.metric('sim.mae_floor_population_dex', r.floor.maeFloorPopulationDex);
    ctx.metric('sim.mae_floor_in_cutout_dex', r.floor.maeFloorInCutoutDex);
    ctx.metric('sim.mae_richness_baseline_dex', r.floor.richnessBaselineDex);
    ctx.metric('sim.seconds', r.seconds.total);
    ctx.log(`scatter floor ${r.floor.maeFloorDex.toFixed(4)} dex (in the ${p.cellMpc} Mpc cutout: ${r.floor.maeFloorInCutoutDex.toFixed(4)}), richness baseline ${r.floor.richnessBaselineDex.toFixed(4)} dex, ${r.seconds.total.toFixed(1)} s`);
  },
});
