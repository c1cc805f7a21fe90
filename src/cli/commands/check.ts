// `massflow check [PIPELINE|EXPERIMENT...]`: every error in the named files (default: the default
// pipeline), nothing run. Pipelines also get the param pre-flight over all their TS stages.
// Exit 0 when there is no error (warnings allowed), 2 otherwise; `--json` prints the diagnostics as data.
import { defaultPipeline, loadPipeline } from '../../project/load.js';
import { diagnosticJson, renderDiagnostics } from '../../report/diagnostics.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../../spec/diagnostics.js';
import { isExperimentFile } from '../../sweep/detect.js';
import { loadExperiment } from '../../sweep/load.js';
import { layoutFrom, parseOverrides, preflightSkipped, type CommonOptions } from '../common.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { rejectedParams } from '../param-preflight.js';
import type { Terminal } from '../terminal.js';

export interface CheckOptions extends CommonOptions { json?: boolean }

interface FileCheck { file: string; kind: 'pipeline' | 'experiment'; diagnostics: Diagnostic[]; skipped: string[]; stages?: number; trials?: number }

export async function checkCommand(files: string[], opts: CheckOptions, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const overrides = parseOverrides(opts.param);
  const profiles = opts.profile ?? [];
  const checks: FileCheck[] = [];
  const named = files.length ? files : [defaultPipeline(layout.root)];
  for (const f of named) {
    if (typeof f !== 'string') { checks.push({ file: '', kind: 'pipeline', diagnostics: [f], skipped: [] }); continue; }
    if (isExperimentFile(layout.root, f)) {
      const r = loadExperiment(layout.root, f, overrides, profiles);
      checks.push(r.ok
        ? { file: r.experiment.file, kind: 'experiment', diagnostics: r.warnings, skipped: [], trials: r.experiment.trials.length }
        : { file: f, kind: 'experiment', diagnostics: r.diagnostics, skipped: r.skipped });
      continue;
    }
    const r = loadPipeline(layout.root, f, overrides, profiles);
    if (!r.ok) { checks.push({ file: f, kind: 'pipeline', diagnostics: r.diagnostics, skipped: [...r.skipped, ...preflightSkipped(r.result?.source)] }); continue; }
    const pipeline = r.result.pipeline!;
    const params = await rejectedParams(layout.root, pipeline, pipeline.stages, opts.param ?? [], profiles);
    checks.push({ file: pipeline.file, kind: 'pipeline', diagnostics: params, skipped: [], stages: pipeline.stages.length });
  }
  const diagnostics = sortDiagnostics(checks.flatMap((c) => c.diagnostics));
  const skipped = checks.flatMap((c) => c.skipped);
  const ok = !hasErrors(diagnostics);
  if (opts.json) {
    term.out.write(JSON.stringify({ ok, files: checks.map((c) => c.file).filter(Boolean), diagnostics: diagnostics.map(diagnosticJson), skipped }, null, 2) + '\n');
  } else {
    if (diagnostics.length) term.err.write(renderDiagnostics(diagnostics, term.style, skipped).join('\n') + '\n');
    for (const c of checks) {
      if (hasErrors(c.diagnostics)) continue;
      const what = c.kind === 'pipeline' ? `${c.stages} stage${c.stages === 1 ? '' : 's'}` : `${c.trials} trial${c.trials === 1 ? '' : 's'}`;
      term.out.write(`${c.file}: ok (${what})\n`);
    }
  }
  return ok ? EXIT.ok : EXIT.usage;
}
