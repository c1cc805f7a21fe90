// The one schema of an experiment file (`experiments/NAME.yaml`): TS types derive from it, validation
// runs on it, and `schema/experiment.schema.json` is generated from it (a test keeps them equal).
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { SchemaHint } from '../pipeline/schema-diagnostics.js';
import type { PathSegment } from '../pipeline/yaml-source.js';
import { TrackingSpecSchema } from '../track/tracking-schema.js';
import { OptunaSweepSchema } from './optuna/schema.js';

/** Param overrides by dotted key (`fit.lr: 3.0e-4`); every key must name an existing pipeline param. */
const Overrides = (description: string) => Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' }), Type.Any(), { description });

const Bounds = (description: string) => Type.Tuple([Type.Number(), Type.Number()], { description });

export const DistributionSchema = Type.Union([
  Type.Object({ uniform: Bounds('[low, high): uniform real.') }, { additionalProperties: false }),
  Type.Object({ 'log-uniform': Bounds('[low, high): uniform in log space; both bounds > 0 (learning rates, weight decay).') }, { additionalProperties: false }),
  Type.Object({ integer: Bounds('[low, high]: uniform integer, both bounds included.') }, { additionalProperties: false }),
  Type.Object({ choice: Type.Array(Type.Any(), { minItems: 1, description: 'One of these values, equally likely.' }) }, { additionalProperties: false }),
], { description: 'How a random-search param is drawn.' });

export const SweepSchema = Type.Object(
  {
    grid: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Any(), { minItems: 1 }), {
      description: 'Every combination of these values (param -> list); trials are numbered in row-major order of the keys as written.',
    })),
    random: Type.Optional(Type.Object(
      {
        seed: Type.Integer({ description: 'The same seed draws the same trials.' }),
        trials: Type.Integer({ minimum: 1, description: 'How many trials to draw.' }),
        params: Type.Record(Type.String(), DistributionSchema, { description: 'param -> distribution.' }),
      },
      { additionalProperties: false, description: 'Random search.' },
    )),
    list: Type.Optional(Type.Array(Overrides('One trial: its param overrides.'), { minItems: 1, description: 'Explicit trials, one override set each.' })),
    optuna: Type.Optional(OptunaSweepSchema),
  },
  { additionalProperties: false, description: 'The trials: exactly one of grid, random, list or optuna.' },
);

export const StageSwitchSchema = Type.Object(
  {
    run: Type.Optional(Type.String({ minLength: 1, description: "Replace the stage's TS module (e.g. an untrained variant)." })),
    cmd: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: "Replace the stage's command." })),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra environment variables, merged over the stage\'s own.' })),
  },
  { additionalProperties: false, description: 'A stage switch: what this variant runs instead. The stage keeps its deps, outs and params.' },
);

export const AblationSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    params: Type.Optional(Overrides('Param overrides of this variant.')),
    stages: Type.Optional(Type.Record(Type.String(), StageSwitchSchema, { description: 'Stage switches by stage name.' })),
  },
  { additionalProperties: false },
);

export const ObjectiveSchema = Type.Object(
  {
    metric: Type.String({
      pattern: '^[^/]+/.+$',
      description: 'STAGE/KEY: a metric a stage reports, e.g. cross-validate/mae_mean (the mean over instances for a foreach stage).',
    }),
    direction: Type.Union([Type.Literal('min'), Type.Literal('max')], { description: 'Whether smaller or larger is better.', errorMessage: 'must be min or max' }),
  },
  { additionalProperties: false, description: 'What ranks the trials.' },
);

/** One objective, or several: the trials on the Pareto front of them are the sweep's best. */
export const ObjectivesSchema = Type.Union([
  ObjectiveSchema,
  Type.Array(ObjectiveSchema, {
    minItems: 1,
    description: 'Several objectives: no single trial is best; the sweep reports the trials no other beats on every objective (the Pareto front).',
  }),
], { errorMessage: 'must be {metric: STAGE/KEY, direction: min|max}, or a list of them' });

export const ExperimentSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Experiment name (default: the file name); the MLflow experiment by default.' })),
    description: Type.Optional(Type.String()),
    pipeline: Type.String({ minLength: 1, description: 'The pipeline file, relative to the project (e.g. pipelines/paper.yaml).' }),
    profiles: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), { description: "The pipeline's named param sets to apply to every trial, in order, before `overrides` (e.g. [full] for paper scale)." })),
    overrides: Type.Optional(Overrides('Param overrides applied to every trial.')),
    sweep: Type.Optional(SweepSchema),
    ablations: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' }), AblationSchema, {
      description: 'Named variants (param sets and stage switches), each a trial beside the baseline; crossed with the sweep when both are given.',
    })),
    baseline: Type.Optional(Type.Boolean({ description: 'With ablations: also run the unchanged pipeline as trial `baseline` (default true).' })),
    targets: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
      description: 'Run only these stages (names or instance ids) and what they need, e.g. [cross-validate] to leave out a costly report stage.',
    })),
    objective: Type.Optional(ObjectivesSchema),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'Trials in progress at once (default: no limit besides --jobs and resources).' })),
    tracking: Type.Optional(TrackingSpecSchema),
  },
  { additionalProperties: false, $id: 'https://massflow.dev/schema/experiment.schema.json', title: 'massflow experiment' },
);

export type ExperimentSpec = Static<typeof ExperimentSchema>;
export type Distribution = Static<typeof DistributionSchema>;
export type AblationSpec = Static<typeof AblationSchema>;
export type StageSwitch = Static<typeof StageSwitchSchema>;
export type Objective = Static<typeof ObjectiveSchema>;
/** `objective` as written: one, or a list. */
export type ObjectiveSpec = Static<typeof ObjectivesSchema>;

/**
 * A located message for a bad `objective`: the schema only says the union failed, so the value is
 * checked against the one objective it is (or each of the list) to point at the wrong field.
 */
export const objectiveHint: SchemaHint = (path, value) => {
  if (path.length !== 1 || path[0] !== 'objective' || value === null || typeof value !== 'object') return undefined;
  const items: [PathSegment[], unknown][] = Array.isArray(value) ? value.map((v, i) => [['objective', i], v]) : [[['objective'], value]];
  for (const [at, item] of items) {
    const e = Value.Errors(ObjectiveSchema, item).First();
    if (!e) continue;
    const field = e.path.split('/').slice(1);
    const own = (e.schema as { errorMessage?: string }).errorMessage;
    const message = e.message === 'Unexpected property' ? `unknown key '${field.at(-1)}'` : e.message === 'Expected required property' ? `missing required key '${field.at(-1)}'` : own ?? e.message.toLowerCase();
    const full = [...at, ...(e.message === 'Expected required property' ? field.slice(0, -1) : field)];
    return { message: `'${full.join('.')}': ${message}`, path: full };
  }
  return undefined;
};

/** The published JSON Schema text, byte for byte what `schema/experiment.schema.json` holds. */
export function experimentJsonSchema(): string {
  return JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...ExperimentSchema }, null, 2) + '\n';
}
