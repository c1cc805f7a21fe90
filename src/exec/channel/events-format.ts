// The events file of a `cmd:` stage (MASSFLOW_EVENTS): JSON lines a program in any language appends,
// one message per line, the same messages a TS stage sends over IPC. This module is the format's
// single reader: it turns one line into a message or into a warning that names the line.
// docs/formats.md describes the format for stage authors.

/** The format version this runner reads; a line may say which it was written for with `"v"`. */
export const EVENTS_FORMAT_VERSION = 1;

export type StageEvent =
  | { type: 'metric'; key: string; value: number; step: number | undefined; timestamp: number | undefined }
  | { type: 'progress'; done: number; total: number }
  | { type: 'artifact'; path: string; name: string | undefined }
  | { type: 'log'; line: string };

export type ParsedLine = { ok: true; event: StageEvent } | { ok: false; problem: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One line of the file (without its newline). `torn` marks a last line the writer never finished. */
export function parseEventLine(text: string, torn = false): ParsedLine {
  let m: unknown;
  try { m = JSON.parse(text); } catch (e) {
    return { ok: false, problem: torn ? 'torn last line (the stage ended mid-write)' : `not JSON (${(e as Error).message})` };
  }
  if (!isObj(m)) return { ok: false, problem: 'not a JSON object' };
  if (m['v'] !== undefined && m['v'] !== EVENTS_FORMAT_VERSION) {
    return { ok: false, problem: `format version ${JSON.stringify(m['v'])}; this massflow reads version ${EVENTS_FORMAT_VERSION}` };
  }
  switch (m['type']) {
    case 'metric': {
      const { key, value, step, timestamp } = m;
      if (typeof key !== 'string' || key === '') return { ok: false, problem: 'metric without a "key" string' };
      if (!finite(value)) return { ok: false, problem: `metric '${key}' has no finite number "value"` };
      if (step !== undefined && step !== null && !(Number.isInteger(step) && (step as number) >= 0)) return { ok: false, problem: `metric '${key}' has a "step" that is not a non-negative integer` };
      if (timestamp !== undefined && timestamp !== null && !finite(timestamp)) return { ok: false, problem: `metric '${key}' has a "timestamp" that is not a number (milliseconds since the epoch)` };
      return { ok: true, event: { type: 'metric', key, value, step: (step ?? undefined) as number | undefined, timestamp: (timestamp ?? undefined) as number | undefined } };
    }
    case 'progress': {
      const { done, total } = m;
      if (!finite(done) || !finite(total) || total <= 0 || done < 0) return { ok: false, problem: 'progress needs numbers "done" >= 0 and "total" > 0' };
      return { ok: true, event: { type: 'progress', done, total } };
    }
    case 'artifact': {
      const { path, name } = m;
      if (typeof path !== 'string' || path === '') return { ok: false, problem: 'artifact without a "path" string' };
      if (name !== undefined && name !== null && typeof name !== 'string') return { ok: false, problem: 'artifact "name" must be a string' };
      return { ok: true, event: { type: 'artifact', path, name: (name ?? undefined) as string | undefined } };
    }
    case 'log': {
      const { line } = m;
      if (typeof line !== 'string') return { ok: false, problem: 'log without a "line" string' };
      return { ok: true, event: { type: 'log', line } };
    }
    default:
      return { ok: false, problem: `unknown "type" ${JSON.stringify(m['type'])} (known: metric, progress, artifact, log)` };
  }
}
