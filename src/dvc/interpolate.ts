// DVC's `${...}` interpolation: dotted keys and `[index]` into the context (params.yaml, `vars`,
// foreach `item`/`key`), no functions. A value that is exactly one `${...}` keeps its type; inside a
// longer string a value prints as Python would (`true`, `1.0`, `1e-05`) and a dict in `cmd` becomes
// `--key value` flags. Nothing is shell-quoted except the strings inside such a dict. `\${` is a
// literal `${`.
import type { PathSegment } from '../pipeline/yaml-source.js';
import { dictToFlags, isComposite, pyStr } from './values.js';

export interface InterpolationError { message: string; path: PathSegment[]; start: number; end: number }

export type Resolved<T = unknown> = { ok: true; value: T } | { ok: false; error: InterpolationError };

const EXPR = /(?<!\\)\$\{(.*?)\}/g;

export const hasDvcInterpolation = (s: string): boolean => new RegExp(EXPR.source).test(s);

/** `a.b[0]` -> the value, or why not. */
export function selectExpr(ctx: Record<string, unknown>, expr: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!expr || !/^[^.[\]]+(?:\.[^.[\]]+|\[[^.[\]]+\])*$/.test(expr)) return { ok: false, message: `'\${${expr}}' is not a key: write \${name}, \${a.b} or \${list[0]}` };
  let cur: unknown = ctx;
  for (const seg of expr.replace(/\[/g, '.').replace(/\]/g, '').split('.')) {
    if (Array.isArray(cur) && /^-?\d+$/.test(seg)) {
      const i = Number(seg) < 0 ? cur.length + Number(seg) : Number(seg);
      if (i < 0 || i >= cur.length) return { ok: false, message: `Could not find '${expr}'` };
      cur = cur[i];
    } else if (isComposite(cur) && !Array.isArray(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else return { ok: false, message: `Could not find '${expr}'` };
  }
  return { ok: true, value: cur };
}

/** Whether a composite value may stand where `key` (the stage field being resolved) is. */
function checkValue(value: unknown, key: string | undefined): string | undefined {
  if (!isComposite(value) || key === undefined || key.includes('foreach') || key === 'matrix') return undefined;
  if (!Array.isArray(value) && key === 'cmd') return undefined;
  return `Cannot interpolate data of type '${Array.isArray(value) ? 'list' : 'dict'}'`;
}

export function resolveString(src: string, ctx: Record<string, unknown>, key: string | undefined, path: PathSegment[]): Resolved {
  const matches = [...src.matchAll(EXPR)];
  if (!matches.length) return { ok: true, value: src.replace(/\\\$\{/g, '${') };
  const fail = (m: RegExpMatchArray, message: string): Resolved => ({ ok: false, error: { message, path, start: m.index!, end: m.index! + m[0].length } });
  if (matches.length === 1 && matches[0]![0] === src) {
    const m = matches[0]!;
    const r = selectExpr(ctx, m[1]!);
    if (!r.ok) return fail(m, r.message);
    const bad = checkValue(r.value, key);
    return bad ? fail(m, bad) : { ok: true, value: r.value };
  }
  let out = '', index = 0;
  for (const m of matches) {
    const r = selectExpr(ctx, m[1]!);
    if (!r.ok) return fail(m, r.message);
    const bad = checkValue(r.value, key);
    if (bad) return fail(m, bad);
    let text: string;
    if (isComposite(r.value)) {
      if (Array.isArray(r.value)) return fail(m, "Cannot interpolate data of type 'list'");
      const flags = dictToFlags(r.value);
      if (!flags.ok) return fail(m, flags.message);
      text = flags.text;
    } else text = pyStr(r.value);
    out += src.slice(index, m.index) + text;
    index = m.index! + m[0].length;
  }
  out += src.slice(index);
  return { ok: true, value: out.replace(/\\\$\{/g, '${') };
}

/** Resolves every string (and map key) inside `value`; `key` is the stage field it belongs to. */
export function resolveDeep(value: unknown, ctx: Record<string, unknown>, key: string | undefined, path: PathSegment[]): Resolved {
  if (typeof value === 'string') return resolveString(value, ctx, key, path);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = resolveDeep(value[i], ctx, key, [...path, i]);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (isComposite(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const rk = resolveString(k, ctx, key, [...path, k]);
      if (!rk.ok) return rk;
      const r = resolveDeep(v, ctx, key, [...path, k]);
      if (!r.ok) return r;
      out[pyStr(rk.value)] = r.value;
    }
    return { ok: true, value: out };
  }
  return { ok: true, value };
}
