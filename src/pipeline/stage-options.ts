// Per-stage options about how a running stage is handled rather than what it computes: the stop
// grace and the stdout metrics pattern. Neither enters the fingerprint.

/** The grace a stage gets after SIGTERM when it sets none. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/** `key: value` lines, as Guild AI reads them; `step: N` sets the step (handled by the reader). */
export const DEFAULT_STDOUT_METRICS = '^\\s*(?<key>[A-Za-z_][A-Za-z0-9_./-]*)\\s*[:=]\\s*(?<value>[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)\\s*$';

const DURATION = /^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `500ms`, `2m`, or a number of seconds. */
export function parseStopGrace(v: number | string | undefined): { ok: true; ms: number } | { ok: false; message: string } {
  if (v === undefined) return { ok: true, ms: DEFAULT_STOP_GRACE_MS };
  if (typeof v === 'number') return { ok: true, ms: Math.round(v * 1000) };
  const m = DURATION.exec(v.trim());
  if (!m) return { ok: false, message: `stop_grace '${v}' is not a duration like 30s, 500ms or 2m` };
  return { ok: true, ms: Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!) };
}

/** The pattern source for `stdout_metrics`, checked: it must compile and name the groups key and value. */
export function stdoutMetricsPattern(v: boolean | string | undefined): { ok: true; pattern: string | undefined } | { ok: false; message: string } {
  if (v === undefined || v === false) return { ok: true, pattern: undefined };
  if (v === true) return { ok: true, pattern: DEFAULT_STDOUT_METRICS };
  let re: RegExp;
  try { re = new RegExp(v); } catch (e) {
    return { ok: false, message: `stdout_metrics is not a valid regular expression: ${(e as Error).message}` };
  }
  const groups = new RegExp(`${re.source}|`).exec('')?.groups ?? {};
  const missing = ['key', 'value'].filter((g) => !(g in groups));
  if (missing.length) return { ok: false, message: `stdout_metrics needs the named group${missing.length > 1 ? 's' : ''} ${missing.map((g) => `(?<${g}>...)`).join(' and ')}` };
  return { ok: true, pattern: v };
}
