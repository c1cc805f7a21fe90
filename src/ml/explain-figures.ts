// The explain stage's figures: per cluster a grid of bands x (cutout, integrated gradients,
// IG x Grad-CAM), and one figure of band-averaged maps for all explained clusters.
import { channel, channelMean, type Explanation } from './explain.js';
import { panelGridPng } from './figure.js';
import { diverging, grey, heat, quantiles, type Rgba } from './raster.js';

const ZOOM_TARGET = 160;

function stretch(img: Float32Array, size: number): Rgba {
  const [lo, hi] = quantiles(img, [0.01, 0.995]);
  return grey(img, size, lo!, hi!);
}

/** A symmetric display scale for signed maps: the 99th percentile of |a|. */
function absScale(a: Float32Array): number {
  return quantiles(a.map(Math.abs), [0.99])[0]! || 1e-12;
}

export interface ExplainedCluster {
  label: string;
  id: string;
  truth: number;
  pred: number;
  pixels: Float32Array;
  e: Explanation;
}

export function clusterFigure(c: ExplainedCluster): Promise<Uint8Array> {
  const { e } = c;
  const nb = e.bands.length;
  const s = e.size;
  const igScale = absScale(e.ig);
  const joinedScale = absScale(e.joined);
  const rowCut: (Rgba | undefined)[] = [];
  const rowIg: (Rgba | undefined)[] = [];
  const rowJoined: (Rgba | undefined)[] = [];
  for (let b = 0; b < nb; b++) {
    const base = stretch(channel(c.pixels, nb, b), s);
    rowCut.push(base);
    rowIg.push(diverging(base, channel(e.ig, nb, b), igScale));
    rowJoined.push(diverging(base, channel(e.joined, nb, b), joinedScale));
  }
  const meanBase = stretch(channelMean(c.pixels, nb), s);
  const meanIg = channelMean(e.ig, nb);
  const meanJoined = channelMean(e.joined, nb);
  rowCut.push(meanBase, heat(e.cam, s));
  rowIg.push(diverging(meanBase, meanIg, absScale(meanIg)), undefined);
  rowJoined.push(diverging(meanBase, meanJoined, absScale(meanJoined)), undefined);
  const totals = e.bands.map((b, i) => `${b} ${e.bandTotals[i]! >= 0 ? '+' : ''}${e.bandTotals[i]!.toFixed(3)}`).join(', ');
  return panelGridPng({
    title: `${c.label}: ${c.id}  true ${c.truth.toFixed(2)}, predicted ${c.pred.toFixed(2)} (log10 M500)`,
    subtitle: `IG per band (dex): ${totals}; sum ${e.igSum.toFixed(3)} vs F(x)-F(0) ${(e.fx - e.fBaseline).toFixed(3)}`,
    columns: [...e.bands, 'band mean', 'Grad-CAM'],
    rows: ['cutout', 'integrated gradients', 'IG x Grad-CAM'],
    panels: [rowCut, rowIg, rowJoined],
    zoom: Math.max(1, Math.round(ZOOM_TARGET / s)),
    footer: 'red: raises the predicted mass, blue: lowers it; Grad-CAM of network 2\'s last convolution, upsampled',
  });
}

export function bandAverageFigure(clusters: readonly ExplainedCluster[]): Promise<Uint8Array> {
  const panels = clusters.map((c) => {
    const nb = c.e.bands.length;
    const s = c.e.size;
    const base = stretch(channelMean(c.pixels, nb), s);
    const ig = channelMean(c.e.ig, nb);
    const joined = channelMean(c.e.joined, nb);
    return [base, diverging(base, ig, absScale(ig)), heat(c.e.cam, s), diverging(base, joined, absScale(joined))];
  });
  const s = clusters[0]?.e.size ?? 64;
  return panelGridPng({
    title: 'band-averaged attributions, best- and worst-predicted clusters',
    columns: ['cutout (band mean)', 'IG (band mean)', 'Grad-CAM', 'IG x Grad-CAM'],
    rows: clusters.map((c) => `${c.label} (${(c.pred - c.truth >= 0 ? '+' : '') + (c.pred - c.truth).toFixed(2)})`),
    panels,
    zoom: Math.max(1, Math.round(ZOOM_TARGET / s)),
    footer: 'row label: prediction error in dex; red raises the predicted mass, blue lowers it',
  });
}
