// Results, not exceptions, across module boundaries: expected failures (a bad input file, an
// unreachable server, an impossible configuration) are values the caller must look at, with a
// value describing what went wrong; exceptions are left for defects. One type for every layer.
export type Result<T, E = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error });

/**
 * An expected failure that ends a stage. Its message is the whole story, so the stage log gets that
 * one line instead of a stack trace that would only bury it.
 */
export function stageFailure(message: string): Error {
  const e = new Error(message);
  e.stack = message;
  return e;
}

/**
 * The value, or a thrown stage failure, at an edge where failing loudly is right (a stage's run, a
 * bench, a test). `context` prefixes a string error (`context: error`), or words any other error.
 */
export function unwrap<T, E>(r: Result<T, E>, context: string | ((e: E) => string)): T {
  if (r.ok) return r.value;
  throw stageFailure(typeof context === 'string' ? `${context}: ${String(r.error)}` : context(r.error));
}
