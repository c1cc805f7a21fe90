// Stage params: fill schema defaults, then check. Stages call this so a partial params object (from
// a YAML file that sets only what it changes) gets the documented defaults, whoever calls run().
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export function resolveParams<S extends TSchema>(schema: S, given: unknown): Static<S> {
  const v = Value.Default(schema, Value.Clone(given ?? {}));
  if (!Value.Check(schema, v)) {
    const first = [...Value.Errors(schema, v)][0];
    throw new Error(`invalid params at ${first?.path || '/'}: ${first?.message}`);
  }
  return v as Static<S>;
}
