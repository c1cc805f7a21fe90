// The objective against each varied param, one panel per param, as a PNG: Vega-Lite compiled and
// rendered headless, then rasterised by the charts' SVG-to-PNG helper (no browser, same fonts).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY } from '../ml/font.js';
import { svgToPng } from '../ml/svg-png.js';
import type { Comparison } from './compare.js';

/** Params worth a panel: those that differ, and the variant when ablations are compared. */
export function plotParams(c: Comparison): string[] {
  const variants = new Set(c.rows.map((r) => r.variant ?? ''));
  return [...(variants.size > 1 ? ['variant'] : []), ...c.differing];
}

export async function objectivePlotPng(c: Comparison): Promise<Uint8Array> {
  const objective = c.objectives[0];
  if (!objective) throw new Error('a plot needs an objective');
  const rows = c.rows.filter((r) => r.objective !== null);
  const best = rows[0]?.label;
  const panels = plotParams(c).map((param) => {
    const values = rows.map((r) => ({
      x: param === 'variant' ? r.variant ?? '' : r.params[param],
      y: r.objective,
      run: r.label,
      best: r.label === best ? 'best' : 'trial',
    })).filter((v) => v.x !== undefined);
    const numeric = values.every((v) => typeof v.x === 'number');
    const xs = values.map((v) => v.x as number);
    // Learning rates and the like span decades: a log axis shows them evenly.
    const log = numeric && xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) >= 10;
    return {
      width: 220,
      height: 180,
      title: param,
      data: { values: values.map((v) => ({ ...v, x: numeric ? v.x : JSON.stringify(v.x).replace(/^"|"$/g, '') })) },
      mark: { type: 'point' as const, filled: true, size: 60 },
      encoding: {
        x: numeric
          ? { field: 'x', type: 'quantitative' as const, title: param, scale: log ? { type: 'log' as const } : { zero: false } }
          : { field: 'x', type: 'nominal' as const, title: param, axis: { labelAngle: -30 } },
        y: { field: 'y', type: 'quantitative' as const, title: objective.metric, scale: { zero: false } },
        color: { field: 'best', type: 'nominal' as const, title: null, scale: { domain: ['best', 'trial'], range: ['#d62728', '#1f77b4'] } },
        tooltip: [{ field: 'run' }, { field: 'x', title: param }, { field: 'y', title: objective.metric }],
      },
    };
  });
  if (panels.length === 0) throw new Error('the runs differ in no param: nothing to plot against');
  const spec = {
    title: `${objective.metric} (${objective.direction === 'min' ? 'lower' : 'higher'} is better)`,
    hconcat: panels,
    config: { font: FONT_FAMILY },
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await svgToPng(await view.toSVG());
  } finally {
    view.finalize();
  }
}
