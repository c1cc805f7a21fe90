// Branded primitives: a digest, a stage id and a run id are all strings at run time, but mixing
// them up is a bug the compiler should catch.
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Lower-case hex SHA-256. */
export type Digest = Brand<string, 'Digest'>;
/** A stage instance id: `name` or `name@key=value,...` for foreach instances. */
export type StageId = Brand<string, 'StageId'>;
/** A run id: sortable by start time, unique per process. */
export type RunId = Brand<string, 'RunId'>;

const HEX64 = /^[0-9a-f]{64}$/;

export function asDigest(s: string): Digest {
  if (!HEX64.test(s)) throw new Error(`not a sha256 digest: ${s}`);
  return s as Digest;
}
export const asStageId = (s: string): StageId => s as StageId;
export const asRunId = (s: string): RunId => s as RunId;
