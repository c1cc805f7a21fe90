// Results, not exceptions, across module boundaries: a caller sees in the type that reading a
// file can fail and gets a value describing where, instead of an exception it may forget to catch.
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error });

/** Unwraps a result at an edge where failing loudly is right (a stage's run, a test). */
export function unwrap<T, E>(r: Result<T, E>, describe: (e: E) => string): T {
  if (r.ok) return r.value;
  throw new Error(describe(r.error));
}
