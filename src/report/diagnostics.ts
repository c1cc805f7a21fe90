// Renders diagnostics: `file:line:col error: message`, the source line, and an underline; related
// locations the same way. The summary line names the checks that errors made impossible.
import type { Diagnostic, Location } from '../spec/diagnostics.js';
import type { Style } from './format.js';

function frame(loc: Location, style: Style, mark: (s: string) => string): string[] {
  const text = loc.source.lines[loc.range.start.line - 1];
  if (text === undefined) return [];
  const { start, end } = loc.range;
  const width = end.line === start.line ? Math.max(1, end.col - start.col) : Math.max(1, text.length - start.col + 1);
  const gutter = String(start.line).length;
  return [
    `  ${style.dim(`${String(start.line).padStart(gutter)} |`)} ${text}`,
    `  ${style.dim(`${' '.repeat(gutter)} |`)} ${' '.repeat(start.col - 1)}${mark('~'.repeat(width))}`,
  ];
}

const at = (loc: Location) => `${loc.file}:${loc.range.start.line}:${loc.range.start.col}`;

export function renderDiagnostics(ds: readonly Diagnostic[], style: Style, skipped: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const d of ds) {
    const sev = d.severity === 'error' ? style.red('error') : style.yellow('warning');
    out.push(d.location ? `${at(d.location)} ${sev}: ${d.message}` : `${sev}: ${d.message}`);
    if (d.location) out.push(...frame(d.location, style, d.severity === 'error' ? style.red : style.yellow));
    for (const r of d.related) {
      out.push(`  ${at(r.location)} ${style.cyan('note')}: ${r.message}`);
      out.push(...frame(r.location, style, style.cyan).map((l) => `  ${l}`));
    }
  }
  const errors = ds.filter((d) => d.severity === 'error').length;
  if (errors) out.push(`${errors} error${errors === 1 ? '' : 's'}${skipped.length ? `; not checked until fixed: ${skipped.join(', ')}` : ''}`);
  return out;
}

/** A location as data for editors and CI annotations: 1-based line and column, end exclusive. */
export interface LocationJson { file: string; line: number; column: number; end: { line: number; column: number } }
export interface DiagnosticJson {
  severity: Diagnostic['severity'];
  code: Diagnostic['code'];
  message: string;
  /** Absent for a mistake outside any file (an unknown `--profile`, a `-p` override). */
  location?: LocationJson;
  related: { message: string; location: LocationJson }[];
}

const locationJson = (loc: Location): LocationJson => ({
  file: loc.file,
  line: loc.range.start.line,
  column: loc.range.start.col,
  end: { line: loc.range.end.line, column: loc.range.end.col },
});

export function diagnosticJson(d: Diagnostic): DiagnosticJson {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.location && { location: locationJson(d.location) }),
    related: d.related.map((r) => ({ message: r.message, location: locationJson(r.location) })),
  };
}
