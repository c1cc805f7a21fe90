// The report charts, declared in Vega-Lite and rendered to PNG (vega's headless SVG renderer, then
// ./svg-png.ts): band-classifier confusion matrix, predicted vs true mass, per-fold MAE.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY } from './font.js';
import { svgToPng } from './svg-png.js';

async function render(spec: TopLevelSpec): Promise<Uint8Array> {
  const full = { ...spec, config: { font: FONT_FAMILY, ...(spec as { config?: object }).config } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: 'none' });
  try {
    return await svgToPng(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** matrix[true][predicted] counts; cells show the count, colour the row fraction. */
export function confusionMatrixPng(bands: readonly string[], matrix: readonly (readonly number[])[], title: string): Promise<Uint8Array> {
  const values = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((n, p) => ({ truth: bands[t], predicted: bands[p], n, fraction: n / total }));
  });
  return render({
    title, width: 40 * bands.length, height: 40 * bands.length,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: [...bands], title: 'predicted band' },
      y: { field: 'truth', type: 'ordinal', sort: [...bands], title: 'true band' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'fraction', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, title: 'row fraction' } } },
      { mark: { type: 'text', fontSize: 12 }, encoding: {
        text: { field: 'n', type: 'quantitative' },
        color: { condition: { test: 'datum.fraction > 0.5', value: 'white' }, value: 'black' },
      } },
    ],
  });
}

export interface PredictionPoint { truth: number; pred: number; fold: number }

export function predictedVsTruePng(points: readonly PredictionPoint[], title: string): Promise<Uint8Array> {
  const all = points.flatMap((p) => [p.truth, p.pred]);
  const lo = Math.floor(Math.min(...all) * 10) / 10;
  const hi = Math.ceil(Math.max(...all) * 10) / 10;
  const scale = { domain: [lo, hi], zero: false, nice: false };
  return render({
    title, width: 340, height: 340,
    layer: [
      {
        data: { values: [{ x: lo, y: lo }, { x: hi, y: hi }] },
        mark: { type: 'line', color: '#888', strokeDash: [4, 4] },
        encoding: { x: { field: 'x', type: 'quantitative', scale }, y: { field: 'y', type: 'quantitative', scale } },
      },
      {
        data: { values: points.map((p) => ({ ...p, fold: `fold ${p.fold}` })) },
        mark: { type: 'circle', size: 28, opacity: 0.7 },
        encoding: {
          x: { field: 'truth', type: 'quantitative', scale, title: 'true log10 M500 [Msun]' },
          y: { field: 'pred', type: 'quantitative', scale, title: 'predicted log10 M500 [Msun]' },
          color: { field: 'fold', type: 'nominal', title: null },
        },
      },
    ],
  });
}

export interface FoldBar { fold: number; cnn: number; richness: number | null }

/** Grouped bars per fold (CNN, richness baseline) and an optional horizontal rule at the floor. */
export function foldMaePng(folds: readonly FoldBar[], floor: number | null, title: string): Promise<Uint8Array> {
  const values = folds.flatMap((f) => [
    { fold: `fold ${f.fold}`, model: 'CNN', mae: f.cnn },
    ...(f.richness === null ? [] : [{ fold: `fold ${f.fold}`, model: 'richness baseline', mae: f.richness }]),
  ]);
  const bars = {
    data: { values },
    mark: 'bar' as const,
    encoding: {
      x: { field: 'fold', type: 'nominal' as const, title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'model', type: 'nominal' as const },
      y: { field: 'mae', type: 'quantitative' as const, title: 'MAE [dex]' },
      color: { field: 'model', type: 'nominal' as const, title: null },
    },
  };
  const layers: object[] = [bars];
  if (floor !== null) {
    layers.push({
      data: { values: [{ floor, label: `scatter floor ${floor.toFixed(3)}` }] },
      mark: { type: 'rule', color: 'black', strokeDash: [5, 3] },
      encoding: { y: { field: 'floor', type: 'quantitative' } },
    }, {
      data: { values: [{ floor, label: `scatter floor ${floor.toFixed(3)}` }] },
      mark: { type: 'text', align: 'left', dx: 4, dy: -7, fontSize: 11 },
      encoding: { y: { field: 'floor', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  return render({ title, width: 80 * folds.length, height: 260, layer: layers } as TopLevelSpec);
}
