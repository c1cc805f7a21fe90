// Spec checks shared by pipeline and experiment files: TypeBox errors turned into located
// diagnostics, and "did you mean" for a param key.
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { diag, type Diagnostic } from '../spec/diagnostics.js';
import { lookupPath } from '../spec/interpolate.js';
import type { PathSegment, YamlSource } from '../spec/yaml-source.js';

/** A clearer message (and place) for an error at `path` than the schema's own, saying what to write. */
export type SchemaHint = (path: readonly PathSegment[], value: unknown, message: string) => { message: string; path?: PathSegment[] } | undefined;

/**
 * The schema's errors as located diagnostics, one per location. `onInvalid` hears the path of each
 * value of the wrong shape (an unknown key leaves the rest usable), so a caller can skip the checks
 * that it makes meaningless.
 */
export function schemaDiagnostics(schema: TSchema, source: YamlSource, raw: unknown, hint?: SchemaHint, onInvalid?: (path: PathSegment[]) => void): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, raw)) {
    const path = e.path.split('/').slice(1).map(decodePointer);
    // A union reports once per branch, and a parent once per bad child: keep the first per location.
    if (seen.has(e.path) || [...seen].some((p) => p !== '' && e.path.startsWith(p + '/'))) continue;
    seen.add(e.path);
    const unexpected = e.message === 'Unexpected property';
    const missing = e.message === 'Expected required property';
    const last = path[path.length - 1];
    const parent = path.slice(0, -1);
    const inParent = parent.length ? ` in '${parent.join('.')}'` : '';
    if (!unexpected) onInvalid?.(path);
    const message = unexpected
      ? `unknown key '${last}'${inParent}`
      : missing
        ? `missing required key '${last}'${inParent}`
        : `${path.length ? `'${path.join('.')}'` : 'the file'}: ${ownMessage(e.schema) ?? lowerFirst(e.message)}`;
    const better = unexpected || missing ? undefined : hint?.(path, e.value, message);
    if (better) { out.push(diag('schema', better.message, source.locate(better.path ?? path))); continue; }
    out.push(diag('schema', message, source.locate(missing ? parent : path, { key: unexpected || (missing && parent.length > 0) })));
  }
  return out;
}

// Only the first letter: the rest may quote a pattern, whose case matters.
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** A message the schema gives for its own failure (`errorMessage`, as editors read it). */
function ownMessage(schema: TSchema): string | undefined {
  const m = (schema as { errorMessage?: unknown }).errorMessage;
  return typeof m === 'string' ? m : undefined;
}

const decodePointer = (s: string): PathSegment => {
  const t = s.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^\d+$/.test(t) ? Number(t) : t;
};

/** ` (did you mean 'fit.lr'?)` when a sibling key of the unknown one is within two edits. */
export function didYouMean(key: string, params: Record<string, unknown>): string {
  const path = key.split('.');
  const parent = lookupPath(params, path.slice(0, -1));
  if (!parent.found || parent.value === null || typeof parent.value !== 'object') return '';
  const leaf = path[path.length - 1]!;
  const close = Object.keys(parent.value).find((k) => editDistance(k, leaf) <= 2);
  return close ? ` (did you mean '${[...path.slice(0, -1), close].join('.')}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
