// Checks specific to experiment files; the located schema errors and "did you mean" they share
// with pipeline files live in src/pipeline/schema-diagnostics.ts.
export { didYouMean, schemaDiagnostics } from '../pipeline/schema-diagnostics.js';

/** The JSON kind of a value, for checking that an override keeps a param's type. */
export function kindOf(v: unknown): 'null' | 'number' | 'string' | 'boolean' | 'list' | 'map' {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
}
