// Reads a stage's declared metrics JSON: numbers (nested objects give dotted keys) are summary
// values; arrays of numbers are per-step series (index = step).
import { readFile } from 'node:fs/promises';

export interface MetricPoint { key: string; value: number; step: number | undefined }

export async function readMetricsFile(path: string): Promise<{ ok: true; points: MetricPoint[] } | { ok: false; message: string }> {
  let data: unknown;
  try { data = JSON.parse(await readFile(path, 'utf8')); } catch (e) {
    return { ok: false, message: `metrics file ${path} is not valid JSON: ${(e as Error).message}` };
  }
  const points: MetricPoint[] = [];
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'number' && Number.isFinite(v)) points.push({ key, value: v, step: undefined });
    else if (Array.isArray(v)) v.forEach((x, i) => { if (typeof x === 'number' && Number.isFinite(x)) points.push({ key, value: x, step: i }); });
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
  };
  walk(data, '');
  return { ok: true, points };
}
