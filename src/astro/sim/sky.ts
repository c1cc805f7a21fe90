// The simulated sky: clusters with known M500 and z packed into SDSS-layout fields, with field
// galaxies and stars, the measured PSF, sky noise and calibration per band. Writes
//   frames/301/<run>/<camcol>/frame-<band>-<run6>-<camcol>-<field4>.fits.bz2   (archive layout)
//   photoObj/301/<run>/photoField-<run6>-<camcol>.fits                         (field boxes)
//   catalog.csv  (truth: id,ra,dec,z,logM500,richness,members_true + placement columns)
//   floor.json   (scatter floors and the richness baseline)
// Frames are rendered on this thread and compressed by bzip2 processes in parallel with it.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { bzip2ToFile } from '../bz2.js';
import { formatClusterCatalog, type ClusterRow } from '../cluster-catalog.js';
import { angularDiameterDistance, comovingDistance, efunc } from '../cosmology.js';
import { BANDS, FRAME_HEIGHT, FRAME_WIDTH, PIXEL_SCALE_ARCSEC, frameRelPath, photoFieldRelPath, raDiff, type Band, type FieldBox } from '../sdss-archive.js';
import { deproject, pixToSky, skyToPix } from '../wcs.js';
import { SDSS_CALIBRATION } from './calibration.js';
import { computeFloor, richnessBaseline, type Floor, type MassPrior } from './floor.js';
import { checkKnots, knotDensity, sampleKnots } from './labelled.js';
import { quantizeMantissa, simFrameFits } from './frame-writer.js';
import { packCells, simField } from './layout.js';
import { drawCluster, modelTables, sampleLogMass, type ClusterModelParams, type SimCluster } from './model.js';
import { simPhotoFieldFits } from './photofield.js';
import { drawFieldSources, type PopulationParams } from './population.js';
import { addNoise, addSource } from './render.js';
import { Rng } from './rng.js';

export interface SimSkyParams extends ClusterModelParams, PopulationParams {
  readonly clusters: number;
  readonly seed: number;
  readonly zMin: number;
  readonly zMax: number;
  readonly zDistribution: 'volume' | 'uniform';
  /** Side of each cluster's cell in Mpc: keep it equal to make-cutouts' sizeMpc. */
  readonly cellMpc: number;
  /** Log-normal scatter of the catalogue richness around the true member count. */
  readonly richnessNoise: number;
  readonly bands: readonly Band[];
  readonly run: number;
  readonly ra0: number;
  readonly dec0: number;
  /** Monte Carlo draws for the population and in-cutout floors. */
  readonly floorDraws: number;
  /** How many of the clusters carry a mass label (0: all of them). */
  readonly labelled: number;
  /** Quantile knots of the labelled clusters' log M500 and z (empty: drawn like the rest). */
  readonly labelledLogM: readonly number[];
  readonly labelledZ: readonly number[];
}

export interface SimHooks {
  log(msg: string): void;
  progress(done: number, total: number): void;
  readonly signal: AbortSignal;
}

export interface SimResult {
  readonly clusters: number;
  readonly labelled: number;
  readonly fields: number;
  readonly frames: number;
  readonly floor: Floor & { readonly richnessBaselineDex: number };
  readonly seconds: { readonly total: number; readonly render: number };
}

function sampleZ(rng: Rng, p: SimSkyParams): number {
  if (p.zDistribution === 'uniform') return rng.range(p.zMin, p.zMax);
  // Uniform in comoving volume: dV/dz ~ D_C^2 / E(z), by rejection (the density rises with z).
  const f = (z: number) => comovingDistance(z) ** 2 / efunc(z);
  const fmax = f(p.zMax);
  for (;;) {
    const z = rng.range(p.zMin, p.zMax);
    if (rng.uniform() * fmax <= f(z)) return z;
  }
}

/** How many clusters carry a mass label: `labelled`, or all of them when it is 0 or too large. */
export const labelledCount = (p: Pick<SimSkyParams, 'clusters' | 'labelled'>): number =>
  p.labelled > 0 && p.labelled < p.clusters ? p.labelled : p.clusters;

/** The labelled sample's mass prior for the floor: the knots' density, and how to draw from it. */
export const labelledPrior = (knots: readonly number[]): MassPrior => ({
  range: [knots[0]!, knots[knots.length - 1]!],
  density: (lm) => knotDensity(knots, lm),
  draw: (rng) => sampleKnots(rng, knots),
});

const cellPx = (mpc: number, z: number) => ((mpc / angularDiameterDistance(z)) * (180 / Math.PI) * 3600) / PIXEL_SCALE_ARCSEC;

interface Placed {
  readonly index: number;
  readonly cluster: SimCluster;
  readonly richness: number;
  readonly labelled: boolean;
  readonly field: number;
  readonly x: number;
  readonly y: number;
  readonly side: number;
  readonly ra: number;
  readonly dec: number;
  /** Galaxies inside the cell, in frame pixels. */
  readonly galaxies: { x: number; y: number; flux: readonly number[]; reArcsec: number; q: number; pa: number; profile: 'dev' | 'gauss' }[];
}

export async function simulateSky(p: SimSkyParams, outDir: string, hooks: SimHooks): Promise<SimResult> {
  const t0 = performance.now();
  if (p.zMin <= 0 || p.zMax <= p.zMin) throw new Error(`sim: need 0 < zMin < zMax (got ${p.zMin}, ${p.zMax})`);
  for (const [k, what] of [[p.labelledLogM, 'sim.labelledLogM'], [p.labelledZ, 'sim.labelledZ']] as const) {
    const problem = k.length ? checkKnots(k, what) : null;
    if (problem) throw new Error(`sim: ${problem}`);
  }
  const tables = modelTables(p);
  const nLabelled = labelledCount(p);

  // 1. Clusters, each from its own random stream so a cluster does not change when others do. The
  // first nLabelled carry a mass label and follow the labelled sample's distributions when given.
  const drawn = Array.from({ length: p.clusters }, (_, i) => {
    const rng = new Rng(p.seed, i + 1);
    const labelled = i < nLabelled;
    const logM = labelled && p.labelledLogM.length ? sampleKnots(rng, p.labelledLogM) : sampleLogMass(rng, p);
    const z = labelled && p.labelledZ.length ? sampleKnots(rng, p.labelledZ) : sampleZ(rng, p);
    const cluster = drawCluster(rng, logM, z, p, tables);
    const richness = cluster.membersTrue * Math.exp(p.richnessNoise * rng.normal());
    return { cluster, richness, labelled };
  });

  // 2. Cells packed into fields.
  const sides = drawn.map((d) => cellPx(p.cellMpc, d.cluster.z));
  const { placements, fields } = packCells(sides);
  const geometry = Array.from({ length: fields }, (_, k) => simField(k, p.run, p.ra0, p.dec0));
  const placed: Placed[] = drawn.map((d, i) => {
    const pl = placements[i]!;
    const g = geometry[pl.field]!;
    const c = pixToSky(g.wcs, pl.x, pl.y);
    const half = sides[i]! / 2;
    const galaxies: Placed['galaxies'] = [];
    for (const gal of d.cluster.galaxies) {
      const s = deproject(c.ra, c.dec, (gal.dxDeg * Math.PI) / 180, (gal.dyDeg * Math.PI) / 180);
      const px = skyToPix(g.wcs, s.ra, s.dec)!;
      // Isolation: only what falls in the cluster's own cell is drawn (the cell is the cutout).
      if (Math.abs(px.x - pl.x) > half || Math.abs(px.y - pl.y) > half) continue;
      galaxies.push({ x: px.x, y: px.y, flux: gal.flux, reArcsec: gal.reArcsec, q: gal.q, pa: gal.pa, profile: gal.profile });
    }
    return { index: i, cluster: d.cluster, richness: d.richness, labelled: d.labelled, field: pl.field, x: pl.x, y: pl.y, side: sides[i]!, ra: c.ra, dec: c.dec, galaxies };
  });
  const byField: Placed[][] = Array.from({ length: fields }, () => []);
  for (const c of placed) byField[c.field]!.push(c);
  hooks.log(`sim: ${p.clusters} clusters (${nLabelled} labelled) in ${fields} fields x ${p.bands.length} bands (cells of ${p.cellMpc} Mpc)`);

  // 3. Frames: render on this thread, compress in bzip2 processes (bounded in flight).
  const framesDir = join(outDir, 'frames');
  const maxInFlight = Math.max(2, availableParallelism());
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let renderMs = 0;
  let done = 0;
  const total = fields * p.bands.length;
  for (let k = 0; k < fields; k++) {
    if (hooks.signal.aborted) throw new Error('sim-sky aborted');
    const g = geometry[k]!;
    const fieldRng = new Rng(p.seed, 1_000_000 + k);
    const sources = drawFieldSources(fieldRng, FRAME_WIDTH, FRAME_HEIGHT, PIXEL_SCALE_ARCSEC, p);
    for (const band of p.bands) {
      const tr = performance.now();
      const b = BANDS.indexOf(band);
      const cal = SDSS_CALIBRATION[band];
      const img = new Float32Array(FRAME_WIDTH * FRAME_HEIGHT);
      for (const s of sources) addSource(img, FRAME_WIDTH, FRAME_HEIGHT, { ...s, flux: s.flux[b]! }, cal.psfFwhmArcsec, PIXEL_SCALE_ARCSEC);
      for (const c of byField[k]!) for (const gal of c.galaxies) addSource(img, FRAME_WIDTH, FRAME_HEIGHT, { ...gal, flux: gal.flux[b]! }, cal.psfFwhmArcsec, PIXEL_SCALE_ARCSEC);
      addNoise(img, cal, new Rng(p.seed, 2_000_000 + k * 5 + b));
      quantizeMantissa(img);
      const fits = simFrameFits({
        band, field: g.id, width: FRAME_WIDTH, height: FRAME_HEIGHT, image: img, wcs: g.wcs, nmgy: cal.nmgy,
        calibvec: new Float32Array(FRAME_WIDTH).fill(cal.nmgy), skyCounts: cal.skyCounts, exptime: cal.exptime, seed: p.seed, mjd: 55000 + k,
      });
      renderMs += performance.now() - tr;
      const path = join(framesDir, frameRelPath(band, g.id));
      await mkdir(dirname(path), { recursive: true });
      // Written under a temporary name and renamed, so a killed run never leaves a half frame.
      const job = bzip2ToFile(fits, `${path}.part`, 1).then(() => rename(`${path}.part`, path)).then(() => {
        done++;
        hooks.progress(done, total);
      }, (e: unknown) => { failure ??= e; });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      if (failure) throw failure;
    }
  }
  await Promise.all(inFlight);
  if (failure) throw failure;

  // 4. photoField tables per (run, camcol), the truth catalogue, the floor.
  const boxes: FieldBox[] = geometry.map((g) => {
    const corners = [[0, 0], [FRAME_WIDTH - 1, 0], [0, FRAME_HEIGHT - 1], [FRAME_WIDTH - 1, FRAME_HEIGHT - 1]].map(([x, y]) => pixToSky(g.wcs, x!, y!));
    const centre = pixToSky(g.wcs, g.wcs.crpix[0], g.wcs.crpix[1]);
    const ras = corners.map((c) => centre.ra + raDiff(c.ra, centre.ra));
    const decs = corners.map((c) => c.dec);
    return { ...g.id, ra: centre.ra, dec: centre.dec, ramin: Math.min(...ras), ramax: Math.max(...ras), decmin: Math.min(...decs), decmax: Math.max(...decs) };
  });
  const camcols = new Map<number, FieldBox[]>();
  for (const b of boxes) camcols.set(b.camcol, [...(camcols.get(b.camcol) ?? []), b]);
  for (const [camcol, list] of camcols) {
    const path = join(outDir, 'photoObj', photoFieldRelPath(p.run, camcol));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, simPhotoFieldFits(list));
  }
  const width = String(p.clusters).length > 4 ? String(p.clusters).length : 4;
  const rows: ClusterRow[] = placed.map((c) => ({
    id: `sim-${String(c.index + 1).padStart(width, '0')}`, ra: c.ra, dec: c.dec, z: c.cluster.z, logM500: c.labelled ? c.cluster.logM500 : null,
    richness: Number(c.richness.toFixed(2)), membersTrue: c.cluster.membersTrue,
    extra: {
      run: String(geometry[c.field]!.id.run), camcol: String(geometry[c.field]!.id.camcol), field: String(geometry[c.field]!.id.field),
      logM500_true: c.cluster.logM500.toFixed(6),
      x: c.x.toFixed(2), y: c.y.toFixed(2), cell_px: c.side.toFixed(1), r_members_mpc: c.cluster.rMembersMpc.toFixed(4), members_in_cell: String(c.galaxies.length),
    },
  }));
  await writeFile(join(outDir, 'catalog.csv'), formatClusterCatalog(rows, ['run', 'camcol', 'field', 'logM500_true', 'x', 'y', 'cell_px', 'r_members_mpc', 'members_in_cell']));
  // The floor and the baseline are scored where the models are: on the labelled clusters, under the
  // labelled sample's own mass prior (an ideal estimator knows which population it is asked about).
  const sample = placed.filter((c) => c.labelled).map((c) => ({ logM500: c.cluster.logM500, membersTrue: c.cluster.membersTrue, richness: c.richness }));
  const prior = p.labelledLogM.length ? labelledPrior(p.labelledLogM) : undefined;
  const floor = computeFloor(p, sample, p.cellMpc, p.seed, p.floorDraws, prior);
  const baseline = richnessBaseline(sample);
  const result = { ...floor, richnessBaselineDex: baseline.maeDex };
  await writeFile(join(outDir, 'floor.json'), JSON.stringify({
    ...result,
    estimator: 'posterior median of log10 M500 given the true member count, under the simulation prior',
    inCutout: `same, knowing only the members inside the ${p.cellMpc} Mpc cell (the default cutout)`,
    richnessBaseline: { a: baseline.a, b: baseline.b, fit: 'log10 M500 = a + b log10(richness), in-sample least squares' },
    clusters: p.clusters, labelled: nLabelled, fields, frames: total, cellMpc: p.cellMpc, seed: p.seed,
  }, null, 2) + '\n');
  const seconds = (performance.now() - t0) / 1000;
  return { clusters: p.clusters, labelled: nLabelled, fields, frames: total, floor: result, seconds: { total: seconds, render: renderMs / 1000 } };
}
