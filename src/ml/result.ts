// Results across module boundaries: expected failures (bad input files, impossible configurations)
// are values the caller must look at; exceptions are left for defects.
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(error: string): Result<T> => ({ ok: false, error });

/** For stage code, where an expected failure ends the stage: throw it with context. */
export function unwrap<T>(r: Result<T>, context: string): T {
  if (!r.ok) throw new Error(`${context}: ${r.error}`);
  return r.value;
}
