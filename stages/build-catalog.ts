// build-catalog: the labelled set and the unlabelled pool for the sdss data source.
// redMaPPer centres are cross-matched with MCXC (X-ray) and Planck PSZ2 (SZ) masses; a matched
// cluster is labelled with log10 M500 [Msun, h = 0.7], every other redMaPPer cluster goes to the
// unlabelled pool (network 1 trains on both). Writes, into its out directory:
//   labelled.csv, unlabelled.csv, catalog.csv (both, labelled first), summary.json
// in the cluster catalogue format of docs/formats.md, with provenance columns after the required ones.
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readAct, readMcxc, readPsz2, readRedmapper, formatCatalogError, type CatalogError, type MassCluster } from '../src/astro/catalogs.js';
import { formatClusterCatalog, type ClusterRow } from '../src/astro/cluster-catalog.js';
import { chooseLabel, crossMatch, type Match } from '../src/astro/crossmatch.js';
import { resolveParams } from '../src/astro/params.js';
import { unwrap, type Result } from '../src/core/result.js';
import { defineStage } from '../src/stage/define.js';

export const catalogParams = Type.Object({
  redmapper: Type.String({ default: 'data/catalogs/sdss_redmapper_dr8_v5.10_subset.csv.gz', description: 'redMaPPer SDSS DR8 CSV (ID,name,RA,dec,redshift,lambda), relative to the project' }),
  mcxc: Type.String({ default: 'data/catalogs/mcxc.fits', description: 'MCXC: the CDS FITS (ASCII table) or its CSV copy; empty to skip' }),
  psz2: Type.String({ default: 'data/catalogs/HFI_PCCS_SZ-union_R2.08.fits', description: 'Planck PSZ2 union catalogue FITS; empty to skip' }),
  act: Type.String({ default: '', description: 'ACT DR5 subset CSV; only used when "act" is in sources (un-calibrated masses)' }),
  sources: Type.Array(Type.Union([Type.Literal('mcxc'), Type.Literal('psz2'), Type.Literal('act')]), { default: ['mcxc', 'psz2'], description: 'mass catalogues that may label a cluster' }),
  radiusArcmin: Type.Number({ default: 3, exclusiveMinimum: 0, description: 'match radius between a redMaPPer centre and a mass-catalogue position' }),
  dzTolerance: Type.Number({ default: 0.05, exclusiveMinimum: 0, description: 'match only when |z_rm - z| < dzTolerance * (1 + z)' }),
  precedence: Type.Union([Type.Literal('mcxc'), Type.Literal('psz2'), Type.Literal('mean')], { default: 'mcxc', description: 'which mass labels a cluster found in both MCXC and PSZ2 (mean: mean of the log masses)' }),
  minLambda: Type.Number({ default: 20, description: 'keep redMaPPer clusters with richness >= this (the public catalogue cut)' }),
});

// Every field optional in the stage schema: a pipeline sets only what it changes; run() fills the defaults.
const params = Type.Object({ catalog: Type.Optional(Type.Partial(catalogParams)) });

const EXTRA = ['name', 'mass_source', 'mcxc', 'psz2', 'act', 'sep_arcmin'];

export default defineStage({
  description: 'Cross-match redMaPPer with MCXC/PSZ2 masses: labelled set (log10 M500) and unlabelled pool',
  params,
  async run(ctx) {
    const p = resolveParams(catalogParams, ctx.params.catalog);
    const path = (f: string) => (isAbsolute(f) ? f : resolve(ctx.projectDir, f));
    const must = <T>(r: Result<T, CatalogError>): T => unwrap(r, formatCatalogError);

    const rmAll = must(await readRedmapper(path(p.redmapper)));
    const rm = rmAll.filter((c) => c.lambda >= p.minLambda && Number.isFinite(c.z));
    ctx.log(`redMaPPer: ${rmAll.length} rows, ${rm.length} with lambda >= ${p.minLambda} and a redshift`);
    ctx.metric('catalog.redmapper', rm.length);

    const match = { radiusArcmin: p.radiusArcmin, dzTolerance: p.dzTolerance };
    const bySource: Partial<Record<'mcxc' | 'psz2' | 'act', { list: MassCluster[]; matches: Map<number, Match> }>> = {};
    const load = async (key: 'mcxc' | 'psz2' | 'act', file: string, reader: (f: string) => Promise<Result<MassCluster[], CatalogError>>) => {
      if (!p.sources.includes(key)) return;
      if (!file) throw new Error(`catalog.sources includes ${key} but catalog.${key} is empty`);
      const list = must(await reader(path(file)));
      const usable = list.filter((c) => Number.isFinite(c.z) && Number.isFinite(c.m500)).length;
      const matches = new Map(crossMatch(rm, list, match).map((m) => [m.rm, m]));
      bySource[key] = { list, matches };
      ctx.log(`${key}: ${list.length} rows, ${usable} with z and M500, ${matches.size} matched`);
      ctx.metric(`catalog.${key}_usable`, usable);
      ctx.metric(`catalog.matched_${key}`, matches.size);
    };
    await load('mcxc', p.mcxc, readMcxc);
    await load('psz2', p.psz2, readPsz2);
    await load('act', p.act, readAct);

    const labelled: ClusterRow[] = [];
    const unlabelled: ClusterRow[] = [];
    let both = 0;
    rm.forEach((c, i) => {
      const m = bySource.mcxc?.matches.get(i);
      const s = bySource.psz2?.matches.get(i);
      const a = bySource.act?.matches.get(i);
      if (m && s) both++;
      const mcxcMass = m ? bySource.mcxc!.list[m.other]!.m500 : undefined;
      // ACT masses fill in only where neither X-ray nor Planck SZ gives one (they are un-calibrated).
      const szMass = s ? bySource.psz2!.list[s.other]!.m500 : a ? bySource.act!.list[a.other]!.m500 : undefined;
      const label = chooseLabel(mcxcMass, szMass, p.precedence);
      const extra = {
        name: c.name,
        mass_source: label ? (label.source === 'psz2' && !s && a ? 'act' : label.source) : '',
        mcxc: m ? bySource.mcxc!.list[m.other]!.name : '',
        psz2: s ? bySource.psz2!.list[s.other]!.name : '',
        act: a ? bySource.act!.list[a.other]!.name : '',
        sep_arcmin: [m, s, a].filter(Boolean).map((x) => x!.sepArcmin.toFixed(3)).join(';'),
      };
      const row: ClusterRow = { id: `rm-${c.id}`, ra: c.ra, dec: c.dec, z: c.z, logM500: label?.logM500 ?? null, richness: c.lambda, membersTrue: null, extra };
      (label ? labelled : unlabelled).push(row);
    });

    await mkdir(ctx.outDir, { recursive: true });
    await writeFile(join(ctx.outDir, 'labelled.csv'), formatClusterCatalog(labelled, EXTRA));
    await writeFile(join(ctx.outDir, 'unlabelled.csv'), formatClusterCatalog(unlabelled, EXTRA));
    await writeFile(join(ctx.outDir, 'catalog.csv'), formatClusterCatalog([...labelled, ...unlabelled], EXTRA));
    const summary = {
      redmapper: rm.length, labelled: labelled.length, unlabelled: unlabelled.length, matchedBoth: both,
      matched: Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, v.matches.size])),
      params: p,
    };
    await writeFile(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    ctx.metric('catalog.labelled', labelled.length);
    ctx.metric('catalog.unlabelled', unlabelled.length);
    ctx.metric('catalog.matched_both', both);
    ctx.log(`labelled ${labelled.length} (both catalogues: ${both}), unlabelled ${unlabelled.length}`);
  },
});
