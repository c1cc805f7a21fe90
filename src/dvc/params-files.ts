// Params files as DVC reads them, by extension: YAML (`.yaml`, `.yml`, and anything unknown), JSON,
// TOML and Python. Values come back as interpolation-context data (integral floats wrapped).
import { parseDocument } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { parsePythonParams } from './python-params.js';
import { contextValue } from './values.js';

export type ParamsFile =
  | { ok: true; data: Record<string, unknown> }
  | { ok: false; message: string };

export function parseParamsFile(path: string, text: string): ParamsFile {
  const ext = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
  let data: unknown;
  try {
    if (ext === 'toml') data = parseToml(text);
    else if (ext === 'py') data = parsePythonParams(text);
    else {
      // JSON is read through the YAML parser too: it keeps each number's source text, which tells
      // a float `1.0` from an int `1`.
      const doc = parseDocument(text, { uniqueKeys: ext !== 'json' });
      if (doc.errors.length) return { ok: false, message: `cannot parse '${path}': ${doc.errors[0]!.message.split('\n')[0]}` };
      data = contextValue(doc.contents);
    }
  } catch (e) {
    return { ok: false, message: `cannot parse '${path}': ${(e as Error).message.split('\n')[0]}` };
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) return { ok: false, message: `expected a dictionary in '${path}'` };
  return { ok: true, data: data as Record<string, unknown> };
}

/** A dotted key (`train.lr`, `layers.0`) in params data. */
export function selectKey(data: unknown, key: string): { found: true; value: unknown } | { found: false } {
  let cur: unknown = data;
  for (const seg of key.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(seg) && Number(seg) < cur.length) cur = cur[Number(seg)];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else return { found: false };
  }
  return { found: true, value: cur };
}
