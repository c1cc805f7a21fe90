// Which params shape a pipeline beyond its stages' declared `params:`: the `${...}` expressions in
// stage fields (foreach ranges, paths, commands, env). A trial that changes none of them has the
// same stages, paths and edges as the base pipeline, only other param values, so it need not be
// compiled from its YAML again; planning 1000 trials stays well under a second.
import { parseTemplate, type Expr } from '../pipeline/interpolate.js';
import type { Pipeline } from '../pipeline/model.js';

/** Every dotted path a `${...}` under `stages:` refers to (foreach variables included: harmless). */
export function interpolatedRefs(rawSpec: unknown): string[][] {
  const out = new Map<string, string[]>();
  const visitExpr = (e: Expr) => {
    if (e.kind === 'ref') out.set(e.path.join('.'), e.path);
    else if (e.kind === 'call') e.args.forEach(visitExpr);
  };
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return;
      const parsed = parseTemplate(v);
      if (parsed.ok) for (const p of parsed.value) if ('expr' in p) visitExpr(p.expr);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk((rawSpec as { stages?: unknown } | null)?.stages);
  return [...out.values()];
}

/** True when one dotted path is the other or lies inside it (`fit` and `fit.lr`). */
export function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether changing `key` can change anything a stage computes. */
export function readsParam(pipeline: Pipeline, interpolated: readonly string[][], key: string): boolean {
  const path = key.split('.');
  return interpolated.some((r) => overlaps(r, path)) || pipeline.stages.some((s) => s.paramKeys.some((k) => overlaps(k.split('.'), path)));
}
