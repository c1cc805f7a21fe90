// World coordinates for the gnomonic (TAN) projection with a CD matrix (or CDELT/PC, CROTA2) and
// optional SIP distortion, pixel <-> sky both ways (FITS WCS papers I and II; SIP: Shupe et al. 2005).
// Pixel coordinates here are 0-based: (0, 0) is the centre of the first pixel, FITS pixel (1, 1).
// Limits: celestial TAN only, native pole at LONPOLE = 180 (the default for zenithal projections
// whose reference point is the native pole), which is what SDSS and most survey images use.
import { fitsError, type FitsError } from './fits-error.js';
import { getNumber, getString, type Header } from './fits-header.js';
import { err, ok, type Result } from '../core/result.js';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export interface Sip {
  /** Coefficients indexed [p][q] for u^p v^q; order+1 square, zeros where absent. */
  readonly a: readonly (readonly number[])[];
  readonly b: readonly (readonly number[])[];
  /** Inverse polynomials when the header gives them (a first guess; refined by Newton iterations). */
  readonly ap: readonly (readonly number[])[] | undefined;
  readonly bp: readonly (readonly number[])[] | undefined;
}

export interface TanWcs {
  /** Reference pixel, 0-based. */
  readonly crpix: readonly [number, number];
  /** Reference sky position (RA, Dec) in degrees. */
  readonly crval: readonly [number, number];
  /** CD matrix in degrees per pixel: [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  readonly cd: readonly [readonly [number, number], readonly [number, number]];
  readonly sip: Sip | undefined;
}

export interface Sky { readonly ra: number; readonly dec: number }
export interface Pixel { readonly x: number; readonly y: number }

function readPoly(h: Header, prefix: string, order: number): number[][] {
  const m: number[][] = [];
  for (let p = 0; p <= order; p++) {
    const row: number[] = [];
    for (let q = 0; q <= order; q++) row.push(p + q <= order ? getNumber(h, `${prefix}_${p}_${q}`) ?? 0 : 0);
    m.push(row);
  }
  return m;
}

export function wcsFromHeader(h: Header, file: string, hdu: number | null = 0): Result<TanWcs, FitsError> {
  const c1 = getString(h, 'CTYPE1')?.trim() ?? '';
  const c2 = getString(h, 'CTYPE2')?.trim() ?? '';
  const tan = /^RA---TAN(-SIP)?$/.test(c1) && /^DEC--TAN(-SIP)?$/.test(c2);
  if (!tan) return err(fitsError('unsupported', file, null, hdu, `WCS CTYPE1/2 = '${c1}'/'${c2}': only RA---TAN/DEC--TAN (optionally -SIP) is supported`));
  const lonpole = getNumber(h, 'LONPOLE');
  if (lonpole !== undefined && lonpole !== 180) return err(fitsError('unsupported', file, null, hdu, `LONPOLE = ${lonpole}: only 180 is supported`));
  const crpix1 = getNumber(h, 'CRPIX1');
  const crpix2 = getNumber(h, 'CRPIX2');
  const crval1 = getNumber(h, 'CRVAL1');
  const crval2 = getNumber(h, 'CRVAL2');
  if (crpix1 === undefined || crpix2 === undefined || crval1 === undefined || crval2 === undefined) {
    return err(fitsError('malformed', file, null, hdu, 'WCS needs CRPIX1, CRPIX2, CRVAL1 and CRVAL2'));
  }
  let cd: [[number, number], [number, number]];
  const cd11 = getNumber(h, 'CD1_1');
  if (cd11 !== undefined || getNumber(h, 'CD2_2') !== undefined) {
    cd = [[cd11 ?? 0, getNumber(h, 'CD1_2') ?? 0], [getNumber(h, 'CD2_1') ?? 0, getNumber(h, 'CD2_2') ?? 0]];
  } else {
    const cdelt1 = getNumber(h, 'CDELT1');
    const cdelt2 = getNumber(h, 'CDELT2');
    if (cdelt1 === undefined || cdelt2 === undefined) return err(fitsError('malformed', file, null, hdu, 'WCS has neither a CD matrix nor CDELT1/CDELT2'));
    const crota = getNumber(h, 'CROTA2');
    let pc: number[][];
    if (getNumber(h, 'PC1_1') !== undefined || getNumber(h, 'PC2_2') !== undefined) {
      pc = [[getNumber(h, 'PC1_1') ?? 1, getNumber(h, 'PC1_2') ?? 0], [getNumber(h, 'PC2_1') ?? 0, getNumber(h, 'PC2_2') ?? 1]];
    } else if (crota !== undefined) {
      // CROTA2 convention (paper II, section 6.1): rotation applied after scaling.
      const c = Math.cos(crota * D2R);
      const s = Math.sin(crota * D2R);
      pc = [[c, -s * (cdelt2 / cdelt1)], [s * (cdelt1 / cdelt2), c]];
    } else pc = [[1, 0], [0, 1]];
    cd = [[cdelt1 * pc[0]![0]!, cdelt1 * pc[0]![1]!], [cdelt2 * pc[1]![0]!, cdelt2 * pc[1]![1]!]];
  }
  let sip: Sip | undefined;
  if (c1.endsWith('-SIP')) {
    const ao = getNumber(h, 'A_ORDER');
    const bo = getNumber(h, 'B_ORDER');
    if (ao === undefined || bo === undefined) return err(fitsError('malformed', file, null, hdu, 'CTYPE says -SIP but A_ORDER/B_ORDER are missing'));
    const apo = getNumber(h, 'AP_ORDER');
    const bpo = getNumber(h, 'BP_ORDER');
    sip = {
      a: readPoly(h, 'A', ao),
      b: readPoly(h, 'B', bo),
      ap: apo !== undefined ? readPoly(h, 'AP', apo) : undefined,
      bp: bpo !== undefined ? readPoly(h, 'BP', bpo) : undefined,
    };
  }
  return ok({ crpix: [crpix1 - 1, crpix2 - 1], crval: [crval1, crval2], cd, sip });
}

function poly(m: readonly (readonly number[])[], u: number, v: number): number {
  let s = 0;
  let up = 1;
  for (let p = 0; p < m.length; p++) {
    let vq = 1;
    const row = m[p]!;
    for (let q = 0; q < row.length; q++) {
      const c = row[q]!;
      if (c !== 0) s += c * up * vq;
      vq *= v;
    }
    up *= u;
  }
  return s;
}

/** Distorted offsets (u, v) from the reference pixel -> intermediate world coordinates (deg). */
function toIntermediate(w: TanWcs, u: number, v: number): [number, number] {
  if (w.sip) {
    const du = poly(w.sip.a, u, v);
    const dv = poly(w.sip.b, u, v);
    u += du;
    v += dv;
  }
  const [[a, b], [c, d]] = w.cd;
  return [a * u + b * v, c * u + d * v];
}

export function pixToSky(w: TanWcs, x: number, y: number): Sky {
  const [xi, eta] = toIntermediate(w, x - w.crpix[0], y - w.crpix[1]);
  return deproject(w.crval[0], w.crval[1], xi * D2R, eta * D2R);
}

/** Inverse gnomonic projection: standard coordinates (radians) about (ra0, dec0) -> sky (deg). */
export function deproject(ra0: number, dec0: number, xi: number, eta: number): Sky {
  const d0 = dec0 * D2R;
  const cd0 = Math.cos(d0);
  const sd0 = Math.sin(d0);
  const den = cd0 - eta * sd0;
  let ra = ra0 + Math.atan2(xi, den) * R2D;
  ra = ((ra % 360) + 360) % 360;
  const dec = Math.atan2(sd0 + eta * cd0, Math.hypot(xi, den)) * R2D;
  return { ra, dec };
}

/** Gnomonic projection of (ra, dec) about (ra0, dec0): standard coordinates in radians, or null behind the plane. */
export function project(ra0: number, dec0: number, ra: number, dec: number): [number, number] | null {
  const d0 = dec0 * D2R;
  const d = dec * D2R;
  const da = (ra - ra0) * D2R;
  const cosc = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(da);
  if (cosc <= 0) return null;
  const xi = (Math.cos(d) * Math.sin(da)) / cosc;
  const eta = (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(da)) / cosc;
  return [xi, eta];
}

/** Sky -> 0-based pixel; null when the position is more than 90 degrees from the reference point. */
export function skyToPix(w: TanWcs, ra: number, dec: number): Pixel | null {
  const p = project(w.crval[0], w.crval[1], ra, dec);
  if (!p) return null;
  const xi = p[0] * R2D;
  const eta = p[1] * R2D;
  const [[a, b], [c, d]] = w.cd;
  const det = a * d - b * c;
  // Undistorted offsets; with SIP these are the target of the forward polynomial.
  const U = (d * xi - b * eta) / det;
  const V = (-c * xi + a * eta) / det;
  if (!w.sip) return { x: U + w.crpix[0], y: V + w.crpix[1] };
  let u = w.sip.ap ? U + poly(w.sip.ap, U, V) : U;
  let v = w.sip.bp ? V + poly(w.sip.bp, U, V) : V;
  // Newton on F(u, v) = (u + A(u,v) - U, v + B(u,v) - V); the header's inverse is only approximate.
  for (let it = 0; it < 20; it++) {
    const fu = u + poly(w.sip.a, u, v) - U;
    const fv = v + poly(w.sip.b, u, v) - V;
    if (Math.abs(fu) < 1e-10 && Math.abs(fv) < 1e-10) break;
    const h = 1e-3;
    const j11 = 1 + (poly(w.sip.a, u + h, v) - poly(w.sip.a, u - h, v)) / (2 * h);
    const j12 = (poly(w.sip.a, u, v + h) - poly(w.sip.a, u, v - h)) / (2 * h);
    const j21 = (poly(w.sip.b, u + h, v) - poly(w.sip.b, u - h, v)) / (2 * h);
    const j22 = 1 + (poly(w.sip.b, u, v + h) - poly(w.sip.b, u, v - h)) / (2 * h);
    const dj = j11 * j22 - j12 * j21;
    u -= (j22 * fu - j12 * fv) / dj;
    v -= (-j21 * fu + j11 * fv) / dj;
  }
  return { x: u + w.crpix[0], y: v + w.crpix[1] };
}

/** Pixel scale in arcsec per pixel (geometric mean of the CD matrix axes). */
export function pixelScaleArcsec(w: TanWcs): number {
  const [[a, b], [c, d]] = w.cd;
  return Math.sqrt(Math.abs(a * d - b * c)) * 3600;
}

/** Angular separation in degrees (haversine, accurate at small separations). */
export function separationDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const p1 = dec1 * D2R;
  const p2 = dec2 * D2R;
  const s = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(((ra2 - ra1) * D2R) / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(s))) * R2D;
}

/** WCS header cards for a TAN/CD WCS (0-based crpix written as FITS 1-based). */
export function wcsCards(w: TanWcs): { key: string; value: number | string; comment: string; float?: boolean }[] {
  return [
    { key: 'CTYPE1', value: 'RA---TAN', comment: 'Coordinate type' },
    { key: 'CTYPE2', value: 'DEC--TAN', comment: 'Coordinate type' },
    { key: 'CUNIT1', value: 'deg', comment: 'Units' },
    { key: 'CUNIT2', value: 'deg', comment: 'Units' },
    { key: 'CRPIX1', value: w.crpix[0] + 1, comment: 'X of reference pixel', float: true },
    { key: 'CRPIX2', value: w.crpix[1] + 1, comment: 'Y of reference pixel', float: true },
    { key: 'CRVAL1', value: w.crval[0], comment: 'RA of reference pixel (deg)', float: true },
    { key: 'CRVAL2', value: w.crval[1], comment: 'Dec of reference pixel (deg)', float: true },
    { key: 'CD1_1', value: w.cd[0][0], comment: 'RA deg per column pixel', float: true },
    { key: 'CD1_2', value: w.cd[0][1], comment: 'RA deg per row pixel', float: true },
    { key: 'CD2_1', value: w.cd[1][0], comment: 'Dec deg per column pixel', float: true },
    { key: 'CD2_2', value: w.cd[1][1], comment: 'Dec deg per row pixel', float: true },
  ];
}
