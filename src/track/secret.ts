// Credentials travel inside this wrapper so that no serializer, logger or template literal can
// print them by accident: JSON.stringify, util.inspect and String() all see a mask.
import { inspect } from 'node:util';

const MASK = '***';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The raw value; call it only where it goes on the wire. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [inspect.custom](): string {
    return `Secret(${MASK})`;
  }
}

/**
 * Replaces every occurrence of the given secret values in `text`. Used on error messages and on
 * every line written to the outbox, as a last guard behind the typed redaction.
 */
export class Redactor {
  readonly #values: string[];
  constructor(values: Iterable<string | undefined>) {
    // Very short values would mask ordinary text ("a", "1"); a password that short is not a secret
    // worth hiding from a local log anyway, and redacting it would corrupt params.
    this.#values = [...new Set([...values].filter((v): v is string => typeof v === 'string' && v.length >= 4))]
      .sort((a, b) => b.length - a.length);
  }
  get empty(): boolean {
    return this.#values.length === 0;
  }
  redact(text: string): string {
    let out = text;
    for (const v of this.#values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }
  contains(text: string): boolean {
    return this.#values.some((v) => text.includes(v));
  }
}

/**
 * Param and tag keys whose last segment names a credential. Their values are replaced before
 * they reach the outbox: a stage that declares `db.password` as a param must not publish it.
 */
const SECRET_KEY = /(^|[._\-/ ])(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export const REDACTED = MASK;
