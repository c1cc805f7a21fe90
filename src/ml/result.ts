// Results across module boundaries: expected failures (bad input files, impossible configurations)
// are values the caller must look at; exceptions are left for defects.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(error: string): Result<T> => ({ ok: false, error });

/**
 * An expected failure that ends a stage. Its message is the whole story, so the stage log gets that
 * one line instead of a stack trace that would only bury it.
 */
export function stageFailure(message: string): Error {
  const e = new Error(message);
  e.stack = message;
  return e;
}

/** For stage code, where an expected failure ends the stage: throw it with context. */
export function unwrap<T>(r: Result<T>, context: string): T {
  if (!r.ok) throw stageFailure(`${context}: ${r.error}`);
  return r.value;
}
