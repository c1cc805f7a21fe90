// `massflow import dvc.yaml [-o pipelines/NAME.yaml]`
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { importDvc } from '../../dvc/import.js';
import { isDvcFile, loadDvcPipeline } from '../../dvc/load.js';
import { diag, hasErrors } from '../../pipeline/diagnostics.js';
import { DiagnosticsError, layoutFrom, parseOverrides, printDiagnostics, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export async function importCommand(file: string, opts: CommonOptions & { output?: string; force?: boolean }, term: Terminal): Promise<ExitCode> {
  const { root } = layoutFrom(opts);
  const abs = resolve(root, file);
  const shown = relative(root, abs);
  if (!isDvcFile(abs)) throw new UsageError(`'${file}' is not a dvc.yaml`);
  let text: string;
  try { text = readFileSync(abs, 'utf8'); } catch { throw new DiagnosticsError([diag('file', `cannot read '${shown}'`, undefined)]); }
  const r = loadDvcPipeline({
    file: shown,
    text,
    name: basename(root),
    overrides: parseOverrides(opts.param),
    readFile: (p) => { try { return readFileSync(resolve(root, p), 'utf8'); } catch { return undefined; } },
  });
  if (!r.pipeline || hasErrors(r.diagnostics)) throw new DiagnosticsError(r.diagnostics, r.skipped);
  if (r.diagnostics.length) printDiagnostics(term, new DiagnosticsError(r.diagnostics));
  const yaml = importDvc(r.pipeline, r.resolved);
  if (!opts.output) { term.out.write(yaml); return EXIT.ok; }
  const out = resolve(root, opts.output);
  if (existsSync(out) && !opts.force) throw new UsageError(`${opts.output} exists (add --force to overwrite it)`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, yaml);
  term.err.write(`wrote ${relative(root, out)} (${r.pipeline.stages.length} stages); run it with: massflow run ${relative(root, out)}\n`);
  return EXIT.ok;
}
