// Params: command-line overrides (`-p fit.lr=1e-3`, `+new.key=1` to add) and flattening for
// fingerprints and MLflow (`fit.lr`).
import { parse as parseYamlValue } from 'yaml';
import { lookupPath } from './interpolate.js';

export interface Override { path: string[]; value: unknown; add: boolean; raw: string }

export type OverrideResult = { ok: true; override: Override } | { ok: false; message: string };

export function parseOverride(raw: string): OverrideResult {
  const eq = raw.indexOf('=');
  if (eq <= 0) return { ok: false, message: `override '${raw}' is not KEY=VALUE` };
  let key = raw.slice(0, eq).trim();
  const add = key.startsWith('+');
  if (add) key = key.slice(1);
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) return { ok: false, message: `override '${raw}': '${key}' is not a dotted param key` };
  let value: unknown;
  try { value = parseYamlValue(raw.slice(eq + 1)); } catch { value = raw.slice(eq + 1); }
  return { ok: true, override: { path: key.split('.'), value: value ?? null, add, raw } };
}

/** Applies overrides to a copy of the params tree; an unknown key is an error unless added with `+`. */
export function applyOverrides(params: Record<string, unknown>, overrides: readonly Override[]): { params: Record<string, unknown>; errors: string[] } {
  const out = structuredClone(params);
  const errors: string[] = [];
  for (const o of overrides) {
    const parentPath = o.path.slice(0, -1);
    const leaf = o.path[o.path.length - 1]!;
    const exists = lookupPath(out, o.path).found;
    if (!exists && !o.add) {
      errors.push(`unknown param '${o.path.join('.')}' in override '${o.raw}' (write '+${o.raw}' to add a new param)`);
      continue;
    }
    let cur: Record<string, unknown> = out;
    for (const seg of parentPath) {
      const next = cur[seg];
      if (next === undefined && o.add) cur[seg] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        errors.push(`override '${o.raw}': '${seg}' is not a map`);
        cur = {};
        break;
      }
      cur = cur[seg] as Record<string, unknown>;
    }
    cur[leaf] = o.value;
  }
  return { params: out, errors };
}

/** `{fit: {lr: 1}}` -> `{'fit.lr': 1}`; lists stay values. Keys sorted for canonical output. */
export function flattenParams(tree: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (v: unknown, p: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const k of Object.keys(v).sort()) walk((v as Record<string, unknown>)[k], p ? `${p}.${k}` : k);
    } else out[p] = v;
  };
  walk(tree, prefix);
  return out;
}

/** The nested subset of `params` holding exactly the given dotted keys. */
export function pickParams(params: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const path = key.split('.');
    const r = lookupPath(params, path);
    if (!r.found) continue;
    let cur = out;
    for (const seg of path.slice(0, -1)) cur = (cur[seg] ??= {}) as Record<string, unknown>;
    cur[path[path.length - 1]!] = structuredClone(r.value);
  }
  return out;
}
