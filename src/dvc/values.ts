// Values as DVC sees them. DVC is Python: `1.0` in params.yaml is a float and interpolates as "1.0",
// `1e-5` as "1e-05", `true` as "true". JavaScript loses the int/float distinction for integral
// values, so the interpolation context keeps such floats wrapped; every other value is plain data.
import { isMap, isScalar, isSeq, type Node } from 'yaml';

/** A float whose value is integral (`1.0`, `2e3`): JavaScript would print it as an int. */
export class PyFloat {
  constructor(readonly value: number) {}
}

const FLOAT_SYNTAX = /[.eE]|inf|nan/i;

/** A YAML (or JSON) node as context data, integral floats wrapped. */
export function contextValue(node: unknown): unknown {
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      out[key] = contextValue(pair.value);
    }
    return out;
  }
  if (isSeq(node)) return node.items.map(contextValue);
  if (isScalar(node)) {
    const v = node.value;
    const src = (node as { source?: string }).source;
    if (typeof v === 'number' && Number.isInteger(v) && src !== undefined && FLOAT_SYNTAX.test(src)) return new PyFloat(v);
    return v;
  }
  return (node as Node | null | undefined) ?? null;
}

/** Context data back to plain data (floats unwrapped). */
export function plain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export const isComposite = (v: unknown): v is Record<string, unknown> | unknown[] => v !== null && typeof v === 'object' && !(v instanceof PyFloat);

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  const sign = x < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1) || '0';
    return `${sign}${int}.${frac}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python's str() of a scalar, with DVC's lower-case booleans. */
export function pyStr(v: unknown): string {
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return 'None';
  return String(v);
}

/** POSIX shell quoting as Python's shlex.quote does it. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/**
 * A dict interpolated into `cmd` becomes command-line flags, as DVC does by default:
 * `--key value`, `--flag` for true (nothing for false), `--list a b`, strings shell-quoted.
 */
export function dictToFlags(obj: Record<string, unknown>): { ok: true; text: string } | { ok: false; message: string } {
  let out = '';
  const flat: [string, unknown][] = [];
  const walk = (v: unknown, p: string) => {
    if (isComposite(v) && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
    else flat.push([p, v]);
  };
  walk(obj, '');
  for (const [k, v] of flat) {
    if (typeof v === 'boolean') { if (v) out += `--${k} `; }
    else if (typeof v === 'string') out += `--${k} ${shellQuote(v)} `;
    else if (Array.isArray(v)) {
      for (let n = 0; n < v.length; n++) {
        const item = v[n];
        if (isComposite(item)) return { ok: false, message: `Cannot interpolate nested iterable in '${k}'` };
        const s = typeof item === 'string' ? shellQuote(item) : pyStr(item);
        out += n > 0 ? `${s} ` : `--${k} ${s} `;
      }
    } else out += `--${k} ${pyStr(v)} `;
  }
  return { ok: true, text: out.trimEnd() };
}
