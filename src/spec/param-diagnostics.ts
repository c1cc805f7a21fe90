// Stage params a stage's own schema rejected (the run's pre-flight, src/exec/param-check.ts), as
// located diagnostics: at the value in the spec's `params:`, or at the profile entry that set it,
// or naming the `-p` override that did; the stage's `params:` declaration as the related location.
import type { ParamCheckResult } from '../exec/param-check.js';
import { diag, type Diagnostic, type Location } from './diagnostics.js';
import type { Pipeline } from './model.js';
import { parseOverride } from './params.js';
import type { SourceFile } from './source.js';
import { YamlSource } from './yaml-source.js';

const covers = (key: readonly string[], path: readonly string[]) => key.length <= path.length && key.every((k, i) => k === path[i]);

export function stageParamDiagnostics(
  pipeline: Pipeline, results: readonly ParamCheckResult[], overrides: readonly string[], profiles: readonly string[],
): { diagnostics: Diagnostic[]; source: SourceFile } {
  const { source } = YamlSource.parse(pipeline.file, pipeline.specText);
  const spec = source.toJS() as { profiles?: Record<string, Record<string, unknown>> } | null;
  const byId = new Map(pipeline.stages.map((s) => [s.id, s]));
  const diagnostics: Diagnostic[] = [];
  for (const r of results) {
    const stage = byId.get(r.id);
    const related = stage ? [{ message: `stage '${stage.name}' declares its params here`, location: source.locate([...stage.yamlPath, 'params']) }] : [];
    for (const e of r.errors) {
      const name = e.path.join('.');
      // The last word wins: -p overrides, then profiles in reverse order of application, then the spec.
      const override = [...overrides].reverse().find((raw) => {
        const p = parseOverride(raw);
        return p.ok && covers(p.override.path, e.path);
      });
      let where = '';
      let location: Location | undefined;
      if (override) where = ` (set by -p ${override})`;
      else {
        const profile = [...profiles].reverse().flatMap((p) => {
          const key = Object.keys(spec?.profiles?.[p] ?? {}).find((k) => covers(k.split('.'), e.path));
          return key ? [{ p, key }] : [];
        })[0];
        location = profile ? source.locate(['profiles', profile.p, profile.key]) : source.locate(['params', ...e.path]);
        if (profile) where = ` (set by profile '${profile.p}')`;
      }
      diagnostics.push(diag('stage-params', `stage '${r.id}' rejects param '${name}': ${e.message.toLowerCase()}${where}`, location, related));
    }
  }
  return { diagnostics, source: source.file };
}
