// A labelled grid of image panels as one PNG: panels are embedded in an SVG with their row and
// column titles, then rendered by ./svg-png.ts (text needs a font renderer; pngjs has none).
import { encodePng, enlarge, type Rgba } from './raster.js';
import { svgToPng } from './svg-png.js';

export interface PanelGrid {
  title: string;
  subtitle?: string;
  columns: string[];
  rows: string[];
  /** panels[row][column]; undefined leaves the cell empty. */
  panels: (Rgba | undefined)[][];
  /** Enlargement of each panel (nearest neighbour). */
  zoom: number;
  /** Optional line of text under the grid (a legend). */
  footer?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function panelGridPng(g: PanelGrid): Promise<Uint8Array> {
  const first = g.panels.flat().find((p) => p !== undefined);
  if (!first) throw new Error('a figure needs at least one panel');
  const pw = first.width * g.zoom;
  const ph = first.height * g.zoom;
  const gap = 6;
  const left = 150;
  const top = g.subtitle ? 64 : 48;
  const colHead = 18;
  const width = left + g.columns.length * (pw + gap);
  const height = top + colHead + g.rows.length * (ph + gap) + (g.footer ? 26 : 8);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="24" font-size="16" font-weight="bold">${esc(g.title)}</text>`,
  ];
  if (g.subtitle) parts.push(`<text x="8" y="44" font-size="12">${esc(g.subtitle)}</text>`);
  g.columns.forEach((c, j) => {
    parts.push(`<text x="${left + j * (pw + gap) + pw / 2}" y="${top + 12}" font-size="12" text-anchor="middle">${esc(c)}</text>`);
  });
  g.rows.forEach((r, i) => {
    const y = top + colHead + i * (ph + gap);
    parts.push(`<text x="${left - 8}" y="${y + ph / 2}" font-size="12" text-anchor="end">${esc(r)}</text>`);
    g.panels[i]?.forEach((p, j) => {
      if (!p) return;
      const b64 = encodePng(enlarge(p, g.zoom)).toString('base64');
      parts.push(`<image x="${left + j * (pw + gap)}" y="${y}" width="${pw}" height="${ph}" xlink:href="data:image/png;base64,${b64}"/>`);
    });
  });
  if (g.footer) parts.push(`<text x="8" y="${height - 8}" font-size="11">${esc(g.footer)}</text>`);
  parts.push('</svg>');
  // The panels are already enlarged to their final size: render at 1:1 so pixels stay crisp.
  return svgToPng(parts.join('\n'), 1);
}
