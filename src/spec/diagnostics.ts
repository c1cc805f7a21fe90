// Located diagnostics: every user mistake in a spec becomes one of these, never an exception.
// A diagnostic points at a source range and may name related locations (e.g. every stage on a cycle).

export interface Position { line: number; col: number } // both 1-based
export interface Range { start: Position; end: Position }
export interface Location { file: string; range: Range }

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
  /** Something in a dvc.yaml that massflow cannot honour, or a DVC field it ignores. */
  | 'dvc';

export function diag(
  code: DiagnosticCode,
  message: string,
  location: Location | undefined,
  related: Related[] = [],
  severity: Severity = 'error',
): Diagnostic {
  return { severity, code, message, location, related };
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/** Orders diagnostics by file and position so output is stable whatever order checks ran in. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => [d.location?.file ?? '', d.location?.range.start.line ?? 0, d.location?.range.start.col ?? 0] as const;
  return [...ds].sort((a, b) => {
    const ka = key(a), kb = key(b);
    return ka[0] < kb[0] ? -1 : ka[0] > kb[0] ? 1 : ka[1] - kb[1] || ka[2] - kb[2] || (a.message < b.message ? -1 : 1);
  });
}
