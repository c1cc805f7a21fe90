// Stage params a stage's own schema rejected (the pre-flight, src/exec/param-check.ts), as located
// diagnostics: at the value in the spec's `params:`, or at the profile entry that set it, or naming
// the override that did; the stage's `params:` declaration as the related location.
import { diag, type Diagnostic, type Location } from './diagnostics.js';
import type { Pipeline, StageInstance } from './model.js';
import { parseOverride } from './params.js';

/** One value a stage's params schema rejected: where in the params tree, and why. */
export interface ParamProblem { path: string[]; message: string }

/** Where the pipeline's params came from, besides the spec itself. */
export interface ParamOrigin {
  /** Raw `key=value` overrides in the order they were applied. */
  overrides: readonly string[];
  /** How the message names an override: `-p fit.lr=-1`, or the trial that set it. */
  describeOverride(raw: string): string;
  profiles: readonly string[];
}

export interface RejectedParams {
  stage: StageInstance;
  errors: readonly ParamProblem[];
  /** Put before the message, e.g. the trials a sweep unit belongs to. */
  prefix?: string;
}

const covers = (key: readonly string[], path: readonly string[]) => key.length <= path.length && key.every((k, i) => k === path[i]);

export function stageParamDiagnostics(pipeline: Pipeline, rejected: readonly RejectedParams[], origin: ParamOrigin): Diagnostic[] {
  // The file as compiled: its profiles are the ones that were applied.
  const { source } = pipeline;
  const js = source.toJS();
  const spec = (js.ok ? js.value : null) as { profiles?: Record<string, Record<string, unknown>> } | null;
  const diagnostics: Diagnostic[] = [];
  for (const { stage, errors, prefix } of rejected) {
    const related = [{ message: `stage '${stage.name}' declares its params here`, location: source.locate([...stage.yamlPath, 'params']) }];
    for (const e of errors) {
      // The last word wins: overrides, then profiles in reverse order of application, then the spec.
      const override = [...origin.overrides].reverse().find((raw) => {
        const p = parseOverride(raw);
        return p.ok && covers(p.override.path, e.path);
      });
      let where = '';
      let location: Location | undefined;
      if (override) where = ` (set by ${origin.describeOverride(override)})`;
      else {
        const profile = [...origin.profiles].reverse().flatMap((p) => {
          const key = Object.keys(spec?.profiles?.[p] ?? {}).find((k) => covers(k.split('.'), e.path));
          return key ? [{ p, key }] : [];
        })[0];
        location = profile ? source.locate(['profiles', profile.p, profile.key]) : source.locate(['params', ...e.path]);
        if (profile) where = ` (set by profile '${profile.p}')`;
      }
      const message = `${prefix ?? ''}stage '${stage.id}' rejects param '${e.path.join('.')}': ${e.message.toLowerCase()}${where}`;
      diagnostics.push(diag('stage-params', message, location, related));
    }
  }
  return diagnostics;
}
