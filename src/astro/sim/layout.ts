// Where simulated clusters go: each cluster gets a square cell (its cutout footprint at the
// default physical size), and cells are packed into SDSS-sized fields so no cell straddles two
// frames and no two cells overlap. Packing is first-fit decreasing over fields with a skyline per
// field (each cell goes to the lowest spot of the first field it fits in); on the default
// population it fills ~90% of the frame area, which sets how many frames the sim must write.
// Fields are separate sky patches (spaced more than a frame apart), numbered like a real run:
// camcol 1..6, fields from 11.
import { FRAME_HEIGHT, FRAME_WIDTH, PIXEL_SCALE_ARCSEC, type FieldId } from '../sdss-archive.js';
import type { TanWcs } from '../wcs.js';

export interface Placement {
  /** Index of the field (0-based) the cell is in. */
  readonly field: number;
  /** Cell centre in 0-based frame pixels. */
  readonly x: number;
  readonly y: number;
}

interface Segment { x: number; w: number; y: number }

/** Lowest position (then leftmost) where a s x s square fits on the skyline, or null. */
function fit(sky: Segment[], s: number, width: number, height: number): { i: number; x: number; y: number } | null {
  let best: { i: number; x: number; y: number } | null = null;
  for (let i = 0; i < sky.length; i++) {
    const x = sky[i]!.x;
    if (x + s > width) break;
    let y = 0;
    let covered = 0;
    for (let j = i; j < sky.length && covered < s; j++) {
      y = Math.max(y, sky[j]!.y);
      covered = sky[j]!.x + sky[j]!.w - x;
    }
    if (y + s > height) continue;
    if (!best || y < best.y) best = { i, x, y };
  }
  return best;
}

function place(sky: Segment[], x: number, y: number, s: number): void {
  const end = x + s;
  const out: Segment[] = [];
  for (const seg of sky) {
    const segEnd = seg.x + seg.w;
    if (segEnd <= x || seg.x >= end) { out.push(seg); continue; }
    if (seg.x < x) out.push({ x: seg.x, w: x - seg.x, y: seg.y });
    if (segEnd > end) out.push({ x: end, w: segEnd - end, y: seg.y });
  }
  out.push({ x, w: s, y: y + s });
  out.sort((a, b) => a.x - b.x);
  // Merge neighbours at the same height so the skyline stays short.
  sky.length = 0;
  for (const seg of out) {
    const last = sky[sky.length - 1];
    if (last && last.y === seg.y && last.x + last.w === seg.x) last.w += seg.w;
    else sky.push({ ...seg });
  }
}

/** Packs square cells (side in px); returns a placement per cell, in input order, and the field count. */
export function packCells(sides: readonly number[], width = FRAME_WIDTH, height = FRAME_HEIGHT): { placements: Placement[]; fields: number } {
  const order = sides.map((_, i) => i).sort((a, b) => sides[b]! - sides[a]! || a - b);
  const out: Placement[] = new Array(sides.length);
  const skylines: (Segment[] | null)[] = [];
  for (const i of order) {
    const s = Math.max(1, Math.ceil(sides[i]!));
    if (s >= width || s >= height) {
      // Bigger than a frame (very low z): alone in its own field, centred; its cutout runs off the edges.
      out[i] = { field: skylines.length, x: (width - 1) / 2, y: (height - 1) / 2 };
      skylines.push(null);
      continue;
    }
    let placed = false;
    for (let f = 0; f < skylines.length && !placed; f++) {
      const sky = skylines[f];
      if (!sky) continue;
      const at = fit(sky, s, width, height);
      if (!at) continue;
      place(sky, at.x, at.y, s);
      out[i] = { field: f, x: at.x + s / 2 - 0.5, y: at.y + s / 2 - 0.5 };
      placed = true;
    }
    if (!placed) {
      const sky: Segment[] = [{ x: 0, w: width, y: 0 }];
      place(sky, 0, 0, s);
      out[i] = { field: skylines.length, x: s / 2 - 0.5, y: s / 2 - 0.5 };
      skylines.push(sky);
    }
  }
  return { placements: out, fields: Math.max(1, skylines.length) };
}

export interface SimFieldGeometry {
  readonly id: FieldId;
  readonly wcs: TanWcs;
}

/**
 * The k-th simulated field: camcol 1 + k % 6, field 11 + floor(k / 6); centred at RA ra0 + 0.2 deg
 * per field step, Dec dec0 + 0.25 deg per camcol. Oriented like a real equatorial frame: columns (x)
 * run north in Dec, rows (y) run east in RA, at 0.396"/px.
 */
export function simField(k: number, run: number, ra0: number, dec0: number): SimFieldGeometry {
  const camcol = 1 + (k % 6);
  const step = Math.floor(k / 6);
  const s = PIXEL_SCALE_ARCSEC / 3600;
  return {
    id: { run, camcol, field: 11 + step, rerun: 301 },
    wcs: {
      crpix: [(FRAME_WIDTH - 1) / 2, (FRAME_HEIGHT - 1) / 2],
      crval: [(((ra0 + 0.2 * step) % 360) + 360) % 360, dec0 + 0.25 * (camcol - 3.5)],
      cd: [[0, s], [s, 0]],
      sip: undefined,
    },
  };
}
