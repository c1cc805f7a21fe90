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
