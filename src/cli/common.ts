// What most commands share: finding the project and pipeline, parsing overrides, rendering
// diagnostics, selecting stages.
import { resolve } from 'node:path';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import { parseOverride, type Override } from '../pipeline/params.js';
import { defaultPipeline, isSpecPath, loadPipeline } from '../project/load.js';
import { compiledDir, projectLayout, type ProjectLayout } from '../project/layout.js';
import { openProject, type Project } from '../project/open.js';
import { selectStages } from '../plan/decide.js';
import type { Pipeline } from '../pipeline/model.js';
import { renderDiagnostics } from '../report/diagnostics.js';
import type { Terminal } from './terminal.js';
import type { YamlSource } from '../pipeline/yaml-source.js';
import { UsageError } from './exit-codes.js';
import type { StageId } from '../core/brand.js';
import { useRemote } from './remote-setup.js';

export interface CommonOptions { project?: string; param?: string[]; profile?: string[] }

export function layoutFrom(opts: CommonOptions): ProjectLayout {
  return projectLayout(resolve(opts.project ?? process.cwd()));
}

export function parseOverrides(raw: readonly string[] = []): Override[] {
  const out: Override[] = [];
  const errors: string[] = [];
  for (const r of raw) {
    const p = parseOverride(r);
    if (p.ok) out.push(p.override); else errors.push(p.message);
  }
  if (errors.length) throw new UsageError(errors.join('\n'));
  return out;
}

/** Splits `[PIPELINE] [STAGE...]`: the first argument is the pipeline when it is a YAML path. */
export function splitArgs(args: readonly string[]): { spec: string | undefined; stages: string[] } {
  if (args.length && isSpecPath(args[0]!)) return { spec: args[0], stages: args.slice(1) };
  return { spec: undefined, stages: [...args] };
}

export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: Diagnostic[], readonly skipped: readonly string[] = []) { super('invalid spec'); }
}

export function printDiagnostics(term: Terminal, e: DiagnosticsError) {
  term.err.write(renderDiagnostics(e.diagnostics, term.style, e.skipped).join('\n') + '\n');
}

export interface Loaded {
  layout: ProjectLayout;
  project: Project;
  pipeline: Pipeline;
  overrides: string[];
  profiles: string[];
  /** Warnings of a pipeline that loaded (e.g. DVC fields massflow ignores), printed once by the command. */
  warnings: DiagnosticsError | undefined;
}

export function printWarnings(term: Terminal, loaded: Pick<Loaded, 'warnings' | 'project'>) {
  if (loaded.warnings) printDiagnostics(term, loaded.warnings);
  printCrashCheck(term, loaded.project);
}

/** What opening the cache after a crash of the machine checked (cache/write-back.ts); every command that opens a project says it. */
export function printCrashCheck(term: Terminal, project: Pick<Project, 'objects'>) {
  const check = project.objects.crashCheck;
  if (!check) return;
  const list = <T>(xs: readonly T[], show: (x: T) => string) => `${xs.slice(0, 3).map(show).join(', ')}${xs.length > 3 ? ', ...' : ''}`;
  const torn = check.removed.length ? `; removed ${check.removed.length} torn (${list(check.removed, (d) => d.slice(0, 12))}): what needs them runs or pulls again` : '; none was torn';
  const kept = check.unremovable.length
    ? `; could not remove ${check.unremovable.length} (${list(check.unremovable, (u) => `${u.digest.slice(0, 12)}: ${u.why}`)}): not used, and checked again by the next command`
    : '';
  term.err.write(`cache: the machine went down since objects were last written; checked the ${check.checked} written since ${new Date(check.since).toISOString()}${torn}${kept}\n`);
}

/**
 * The pre-flight needs a compiled pipeline, so a spec error stops it: the summary then says so,
 * where the file has TS stages for it to check.
 */
export function preflightSkipped(source: YamlSource | undefined): string[] {
  const js = source?.toJS();
  const stages = js?.ok ? (js.value as { stages?: unknown } | null)?.stages : undefined;
  const ts = stages !== null && typeof stages === 'object' && Object.values(stages).some((s) => s !== null && typeof s === 'object' && 'run' in s);
  return ts ? ["the TS stages' params against their schemas"] : [];
}

/** `preflight`: the command checks stage params next, so a spec error also keeps that from happening. */
export async function loadForCommand(opts: CommonOptions, spec: string | undefined, preflight = false): Promise<Loaded> {
  const layout = layoutFrom(opts);
  const overrides = parseOverrides(opts.param);
  let specPath = spec;
  if (!specPath) {
    const d = defaultPipeline(layout.root);
    if (typeof d !== 'string') throw new DiagnosticsError([d]);
    specPath = d;
  }
  const loaded = await loadPipeline(layout.root, specPath, overrides, opts.profile ?? [], compiledDir(layout));
  if (!loaded.ok) throw new DiagnosticsError(loaded.diagnostics, [...loaded.skipped, ...(preflight ? preflightSkipped(loaded.result?.source) : [])]);
  const project = openProject(layout);
  await useRemote(project, loaded.pipeline.remote);
  const warnings = loaded.warnings.length ? new DiagnosticsError(loaded.warnings) : undefined;
  return { layout, project, pipeline: loaded.pipeline, overrides: opts.param ?? [], profiles: opts.profile ?? [], warnings };
}

export function select(pipeline: Pipeline, stages: readonly string[]): Set<StageId> {
  const r = selectStages(pipeline, stages);
  if (!r.ok) {
    const names = [...new Set(pipeline.stages.map((s) => s.name))].join(', ');
    throw new UsageError(`unknown stage${r.unknown.length > 1 ? 's' : ''} ${r.unknown.map((u) => `'${u}'`).join(', ')} (stages: ${names})`);
  }
  return r.selected;
}
