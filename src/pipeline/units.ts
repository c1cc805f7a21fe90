// Memory sizes as users write them: 2GiB, 512MB, 1.5G, or a number of bytes.
const UNITS: Record<string, number> = {
  '': 1, B: 1,
  K: 1024, KI: 1024, KIB: 1024, KB: 1000,
  M: 1024 ** 2, MI: 1024 ** 2, MIB: 1024 ** 2, MB: 1000 ** 2,
  G: 1024 ** 3, GI: 1024 ** 3, GIB: 1024 ** 3, GB: 1000 ** 3,
  T: 1024 ** 4, TI: 1024 ** 4, TIB: 1024 ** 4, TB: 1000 ** 4,
};

export function parseMemory(v: number | string): number | undefined {
  if (typeof v === 'number') return v >= 0 ? Math.round(v) : undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$/.exec(v.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toUpperCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}
