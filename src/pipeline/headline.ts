// `summary: [STAGE/METRIC, ...]`: the headline metrics a run logs on its top-level MLflow run.
import type { StageId } from '../core/brand.js';
import { diag, type Diagnostic } from './diagnostics.js';
import type { HeadlineMetric, StageInstance } from './model.js';
import type { YamlSource } from './yaml-source.js';

/** Resolved to stage ids; without `summary:`, every metric of the final stages (none depends on them). */
export function compileHeadline(source: YamlSource, refs: readonly string[] | undefined, stages: readonly StageInstance[],
  upstream: ReadonlyMap<StageId, StageId[]>, diagnostics: Diagnostic[]): HeadlineMetric[] {
  if (refs === undefined) {
    const needed = new Set<StageId>();
    for (const ups of upstream.values()) for (const u of ups) needed.add(u);
    return stages.filter((s) => !needed.has(s.id)).map((s) => ({ stage: s.id }));
  }
  const byName = new Map<string, StageId[]>();
  for (const s of stages) {
    const ids = byName.get(s.name); // appended in place: a foreach of 10^4 instances is one name
    if (ids) ids.push(s.id); else byName.set(s.name, [s.id]);
  }
  const out: HeadlineMetric[] = [];
  refs.forEach((ref, i) => {
    const slash = ref.indexOf('/');
    const stage = ref.slice(0, slash);
    const metric = ref.slice(slash + 1);
    const exact = stages.find((s) => s.id === stage);
    const named = byName.get(stage) ?? [];
    const where = source.locate(['summary', i]);
    if (exact) out.push({ stage: exact.id, metric });
    else if (named.length > 1) diagnostics.push(diag('summary', `summary '${ref}': stage '${stage}' runs as ${named.length} instances (${named.join(', ')}); name one`, where));
    else diagnostics.push(diag('summary', `summary '${ref}': unknown stage '${stage}' (stages: ${[...byName.keys()].join(', ')})`, where));
  });
  return out;
}
