// Where simulated clusters go: each cluster gets a square cell (its cutout footprint at the
// default physical size), and cells are packed into SDSS-sized fields so no cell straddles two
// frames and no two cells overlap. Packing: cells sorted large to small fill shelves across the
// frame; inside a shelf, smaller cells stack in columns. Fields are separate sky patches (spaced
// more than a frame apart), numbered like a real run: camcol 1..6, fields from 11.
import { FRAME_HEIGHT, FRAME_WIDTH, PIXEL_SCALE_ARCSEC, type FieldId } from '../sdss-archive.js';
import type { TanWcs } from '../wcs.js';

export interface Placement {
  /** Index of the field (0-based) the cell is in. */
  readonly field: number;
  /** Cell centre in 0-based frame pixels. */
  readonly x: number;
  readonly y: number;
}

/** Packs square cells (side in px); returns a placement per cell, in input order, and the field count. */
export function packCells(sides: readonly number[], width = FRAME_WIDTH, height = FRAME_HEIGHT): { placements: Placement[]; fields: number } {
  const order = sides.map((_, i) => i).sort((a, b) => sides[b]! - sides[a]! || a - b);
  const out: Placement[] = new Array(sides.length);
  let field = -1;
  let shelfY = 0;
  let shelfH = 0;
  let colX = 0;
  let colW = 0;
  let colY = 0;
  const newField = () => {
    field++;
    shelfY = 0;
    shelfH = 0;
    colX = 0;
    colW = 0;
    colY = 0;
  };
  newField();
  for (const i of order) {
    const s = Math.max(1, Math.ceil(sides[i]!));
    if (s >= width || s >= height) {
      // Bigger than a frame (very low z): alone in its own field, centred; its cutout runs off the edges.
      if (shelfH > 0) newField();
      out[i] = { field, x: (width - 1) / 2, y: (height - 1) / 2 };
      newField();
      continue;
    }
    // Stack in the current column of the current shelf if it fits there.
    if (shelfH > 0 && s <= colW && colY + s <= shelfY + shelfH) {
      out[i] = { field, x: colX + s / 2 - 0.5, y: colY + s / 2 - 0.5 };
      colY += s;
      continue;
    }
    // New column in the shelf.
    const nextX = colX + colW;
    if (shelfH > 0 && nextX + s <= width) {
      colX = nextX;
      colW = s;
      colY = shelfY;
      out[i] = { field, x: colX + s / 2 - 0.5, y: colY + s / 2 - 0.5 };
      colY += s;
      continue;
    }
    // New shelf (or new field).
    const nextShelf = shelfY + shelfH;
    if (nextShelf + s > height) newField();
    else shelfY = nextShelf;
    shelfH = s;
    colX = 0;
    colW = s;
    colY = shelfY;
    out[i] = { field, x: s / 2 - 0.5, y: colY + s / 2 - 0.5 };
    colY += s;
  }
  const used = shelfH > 0 || colW > 0 ? field + 1 : field;
  return { placements: out, fields: Math.max(used, 1) };
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
