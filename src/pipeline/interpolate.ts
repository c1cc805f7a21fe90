// `${...}` interpolation: references to params (`${fit.lr}`), foreach variables (`${fold}`) and a few
// functions (`${range(cv.folds)}`). A string that is exactly one `${...}` keeps the value's type;
// otherwise the values are formatted into the string. `$${` is a literal `${`.
import { err, ok, type Result } from '../core/result.js';

export type Expr =
  | { kind: 'ref'; path: string[]; start: number; end: number }
  | { kind: 'num'; value: number; start: number; end: number }
  | { kind: 'str'; value: string; start: number; end: number }
  | { kind: 'call'; name: string; args: Expr[]; start: number; end: number };

export interface InterpolationError { code: 'interpolation' | 'unknown-param'; message: string; start: number; end: number }

type Part = { text: string } | { expr: Expr; start: number; end: number };

export type Interpolated<T> = Result<T, InterpolationError>;
const fail = (code: InterpolationError['code'], message: string, start: number, end: number): Interpolated<never> =>
  err({ code, message, start, end });

export const hasInterpolation = (s: string): boolean => s.includes('${');

// A foreach of 10^4 instances interpolates the same few templates 10^4 times: each is parsed once.
// The parts are read, never changed, so one result serves every instance.
const parsedTemplates = new Map<string, Interpolated<Part[]>>();
const MAX_PARSED_TEMPLATES = 10_000;

export function parseTemplate(s: string): Interpolated<Part[]> {
  let r = parsedTemplates.get(s);
  if (r) return r;
  r = parseTemplateText(s);
  if (parsedTemplates.size >= MAX_PARSED_TEMPLATES) parsedTemplates.clear();
  parsedTemplates.set(s, r);
  return r;
}

function parseTemplateText(s: string): Interpolated<Part[]> {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) { text += '${'; i += 3; continue; }
    if (s.startsWith('${', i)) {
      const close = s.indexOf('}', i + 2);
      if (close < 0) return fail('interpolation', 'unterminated ${...}', i, s.length);
      const parsed = parseExpr(s.slice(i + 2, close), i + 2);
      if (!parsed.ok) return parsed;
      if (text) parts.push({ text });
      text = '';
      parts.push({ expr: parsed.value, start: i, end: close + 1 });
      i = close + 1;
      continue;
    }
    text += s[i];
    i++;
  }
  if (text || parts.length === 0) parts.push({ text });
  return ok(parts);
}

function parseExpr(src: string, base: number): Interpolated<Expr> {
  let pos = 0;
  const ws = () => { while (pos < src.length && /\s/.test(src[pos]!)) pos++; };
  const err = (msg: string): Interpolated<never> => fail('interpolation', msg, base + pos, base + Math.max(pos + 1, src.length));

  function primary(): Interpolated<Expr> {
    ws();
    const start = pos;
    const rest = src.slice(pos);
    const num = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(rest);
    if (num) { pos += num[0].length; return ok({ kind: 'num', value: Number(num[0]), start: base + start, end: base + pos }); }
    const q = rest[0];
    if (q === '"' || q === "'") {
      const close = src.indexOf(q, pos + 1);
      if (close < 0) return err('unterminated string');
      pos = close + 1;
      return ok({ kind: 'str', value: src.slice(start + 1, close), start: base + start, end: base + pos });
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*/.exec(rest);
    if (!ident) return err(rest.length ? `unexpected '${rest[0]}'` : 'empty expression');
    pos += ident[0].length;
    ws();
    if (src[pos] === '(') {
      pos++;
      const args: Expr[] = [];
      ws();
      if (src[pos] === ')') pos++;
      else for (;;) {
        const a = primary();
        if (!a.ok) return a;
        args.push(a.value);
        ws();
        if (src[pos] === ',') { pos++; continue; }
        if (src[pos] === ')') { pos++; break; }
        return err("expected ',' or ')'");
      }
      return ok({ kind: 'call', name: ident[0], args, start: base + start, end: base + pos });
    }
    return ok({ kind: 'ref', path: ident[0].split('.'), start: base + start, end: base + start + ident[0].length });
  }

  const e = primary();
  if (!e.ok) return e;
  ws();
  if (pos < src.length) return err(`unexpected '${src[pos]}'`);
  return e;
}

export interface Scope {
  vars: Readonly<Record<string, unknown>>;
  params: Readonly<Record<string, unknown>>;
}

/** Looks a dotted path up in a params tree; `undefined` when any segment is missing. */
export function lookupPath(tree: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let cur: unknown = tree;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[seg];
  }
  return { found: true, value: cur };
}

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  range(args) {
    const n = args.map(Number);
    if (n.some((x) => !Number.isInteger(x))) throw new Error('range() takes integers');
    const [a, b, step] = n.length === 1 ? [0, n[0]!, 1] : [n[0]!, n[1]!, n[2] ?? 1];
    if (step === 0 || n.length === 0 || n.length > 3) throw new Error('range(n), range(a, b) or range(a, b, step)');
    const out: number[] = [];
    for (let x = a; step > 0 ? x < b : x > b; x += step) out.push(x);
    return out;
  },
  len(args) {
    const v = args[0];
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new Error('len() takes a list, string or map');
  },
};

export function evaluate(e: Expr, scope: Scope): Interpolated<unknown> {
  switch (e.kind) {
    case 'num': case 'str': return ok(e.value);
    case 'ref': {
      const [head, ...rest] = e.path;
      if (head !== undefined && Object.prototype.hasOwnProperty.call(scope.vars, head)) {
        const r = lookupPath(scope.vars[head], rest);
        return r.found ? ok(r.value) : fail('unknown-param', `unknown key '${e.path.join('.')}'`, e.start, e.end);
      }
      const r = lookupPath(scope.params, e.path);
      return r.found ? ok(r.value) : fail('unknown-param', `unknown param '${e.path.join('.')}'`, e.start, e.end);
    }
    case 'call': {
      const fn = FUNCTIONS[e.name];
      if (!fn) return fail('interpolation', `unknown function '${e.name}' (known: ${Object.keys(FUNCTIONS).join(', ')})`, e.start, e.end);
      const args: unknown[] = [];
      for (const a of e.args) {
        const v = evaluate(a, scope);
        if (!v.ok) return v;
        args.push(v.value);
      }
      try { return ok(fn(args)); } catch (err) { return fail('interpolation', (err as Error).message, e.start, e.end); }
    }
  }
}

/** Interpolates a string; a lone `${...}` returns the value itself (a number stays a number). */
export function interpolate(s: string, scope: Scope): Interpolated<unknown> {
  const parsed = parseTemplate(s);
  if (!parsed.ok) return parsed;
  const parts = parsed.value;
  if (parts.length === 1 && 'expr' in parts[0]!) return evaluate(parts[0].expr, scope);
  let out = '';
  for (const p of parts) {
    if ('text' in p) { out += p.text; continue; }
    const v = evaluate(p.expr, scope);
    if (!v.ok) return v;
    if (v.value !== null && typeof v.value === 'object') {
      return fail('interpolation', 'a list or map cannot be formatted into a string', p.start, p.end);
    }
    out += String(v.value);
  }
  return ok(out);
}

export function interpolateString(s: string, scope: Scope): Interpolated<string> {
  const r = interpolate(s, scope);
  if (!r.ok) return r;
  if (r.value !== null && typeof r.value === 'object') return fail('interpolation', 'expected a string, got a list or map', 0, s.length);
  return ok(String(r.value));
}
