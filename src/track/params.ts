// Params as MLflow stores them: flat string keys (`fit.lr`) and string values.

/**
 * `{ fit: { lr: 3e-4 }, cutout: { bands: ['u','g'] } }` -> `{ 'fit.lr': '0.0003', 'cutout.bands': '["u","g"]' }`.
 * Objects nest with dots; arrays and other values are leaves (arrays as JSON, so they stay one param).
 */
export function flattenParams(params: Readonly<Record<string, unknown>>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      Object.assign(out, flattenParams(v as Record<string, unknown>, key));
    } else {
      out[key] = paramValue(v);
    }
  }
  return out;
}

/** One param value as text: strings as is, numbers and booleans via String, the rest as JSON. */
export function paramValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}
