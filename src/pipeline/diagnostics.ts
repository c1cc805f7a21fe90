// Located diagnostics: every user mistake in a spec becomes one of these, never an exception.
// A diagnostic points at a source range and may name related locations (e.g. every stage on a cycle).
// A location (source.ts) carries the source it points into, so whoever prints it needs nothing else.
import type { Location } from './source.js';

export type { Location, Position, Range } from './source.js';

export interface Related { message: string; location: Location }

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `yaml-syntax`, `schema`, `cycle`. */
  code: DiagnosticCode;
  message: string;
  location: Location | undefined;
  related: Related[];
}

export type DiagnosticCode =
  | 'yaml-syntax'
  | 'schema'
  | 'stage-name'
  | 'run-or-cmd'
  | 'unknown-needs'
  | 'cycle'
  | 'duplicate-out'
  | 'path-escape'
  | 'unknown-param'
  | 'stage-params'
  | 'interpolation'
  | 'foreach'
  | 'override'
  | 'file'
  | 'experiment'
  | 'needs-self'
  | 'dep-is-out'
  | 'missing-dep'
  | 'empty'
  | 'cmd'
  | 'name'
  | 'too-large'
  | 'summary'
  /** Something in a dvc.yaml that massflow cannot honour, or a DVC field it ignores. */
  | 'dvc'
  /** A `slurm:` setting the cluster or the project cannot honour (e.g. shared_fs: false without a remote). */
  | 'slurm';

export function diag(
  code: DiagnosticCode,
  message: string,
  location: Location | undefined,
  related: Related[] = [],
  severity: Severity = 'error',
): Diagnostic {
  return { severity, code, message, location, related };
}

/**
 * Diagnostics and the checks they made impossible: a check that an earlier error makes meaningless
 * is skipped and named here (e.g. "stage 'b' past its schema errors"), so the summary says so.
 */
export interface Checked { diagnostics: Diagnostic[]; skipped: string[] }

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Orders diagnostics by file and position so output is stable whatever order checks ran in. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => [d.location?.file ?? '', d.location?.range.start.line ?? 0, d.location?.range.start.col ?? 0] as const;
  return [...ds].sort((a, b) => {
    const ka = key(a), kb = key(b);
    return ka[0] < kb[0] ? -1 : ka[0] > kb[0] ? 1 : ka[1] - kb[1] || ka[2] - kb[2] || (a.message < b.message ? -1 : 1);
  });
}
