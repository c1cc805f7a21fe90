// Cross-matching redMaPPer centres with mass catalogues, and choosing a mass label per cluster.
// A mass cluster matches the nearest redMaPPer centre within `radiusArcmin` whose redshift agrees to
// |z_rm - z| < dzTolerance * (1 + z); each redMaPPer cluster keeps at most one partner per catalogue
// (the nearest), so a pair of close X-ray entries cannot label one optical cluster twice.
import type { MassCluster, RedmapperCluster } from './catalogs.js';
import { separationDeg } from './wcs.js';

export interface MatchParams {
  readonly radiusArcmin: number;
  readonly dzTolerance: number;
}

export interface Match {
  /** Index into the redMaPPer list. */
  readonly rm: number;
  /** Index into the mass catalogue. */
  readonly other: number;
  readonly sepArcmin: number;
}

/** Matches usable entries (finite z and mass) of `others` to redMaPPer clusters. */
export function crossMatch(rm: readonly RedmapperCluster[], others: readonly MassCluster[], p: MatchParams): Match[] {
  const radiusDeg = p.radiusArcmin / 60;
  // Sort redMaPPer by Dec so each search scans only a +-radius Dec window.
  const order = rm.map((_, i) => i).filter((i) => Number.isFinite(rm[i]!.dec)).sort((a, b) => rm[a]!.dec - rm[b]!.dec);
  const decs = Float64Array.from(order, (i) => rm[i]!.dec);
  const lowerBound = (v: number) => {
    let lo = 0;
    let hi = decs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (decs[mid]! < v) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const best = new Map<number, Match>();
  others.forEach((o, oi) => {
    if (!Number.isFinite(o.z) || !Number.isFinite(o.m500) || !Number.isFinite(o.ra) || !Number.isFinite(o.dec)) return;
    let found: Match | undefined;
    for (let k = lowerBound(o.dec - radiusDeg); k < decs.length && decs[k]! <= o.dec + radiusDeg; k++) {
      const ri = order[k]!;
      const c = rm[ri]!;
      if (!Number.isFinite(c.z) || Math.abs(c.z - o.z) >= p.dzTolerance * (1 + o.z)) continue;
      const sep = separationDeg(o.ra, o.dec, c.ra, c.dec) * 60;
      if (sep <= p.radiusArcmin && (!found || sep < found.sepArcmin)) found = { rm: ri, other: oi, sepArcmin: sep };
    }
    if (!found) return;
    const prev = best.get(found.rm);
    if (!prev || found.sepArcmin < prev.sepArcmin) best.set(found.rm, found);
  });
  return [...best.values()].sort((a, b) => a.rm - b.rm);
}

export type Precedence = 'mcxc' | 'psz2' | 'mean';

export interface Label {
  /** log10(M500 / Msun), h = 0.7. */
  readonly logM500: number;
  readonly source: 'mcxc' | 'psz2' | 'mean';
}

/** The label for a cluster with an MCXC and/or PSZ2 mass (1e14 Msun); the precedence picks when both. */
export function chooseLabel(mcxc: number | undefined, psz2: number | undefined, precedence: Precedence): Label | undefined {
  const lm = mcxc !== undefined ? 14 + Math.log10(mcxc) : undefined;
  const lp = psz2 !== undefined ? 14 + Math.log10(psz2) : undefined;
  if (lm === undefined && lp === undefined) return undefined;
  if (lm === undefined) return { logM500: lp!, source: 'psz2' };
  if (lp === undefined) return { logM500: lm, source: 'mcxc' };
  if (precedence === 'mean') return { logM500: (lm + lp) / 2, source: 'mean' };
  return precedence === 'mcxc' ? { logM500: lm, source: 'mcxc' } : { logM500: lp, source: 'psz2' };
}
