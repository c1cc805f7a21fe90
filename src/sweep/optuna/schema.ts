// The `sweep.optuna` block of an experiment file: sampler, budget, search space, pruning, storage.
// Part of the one experiment schema (../schema.ts): types, validation and the published JSON
// Schema all come from here. The option names each sampler and pruner accepts are Optuna's own
// constructor arguments (those whose values are plain data), so a misspelt one is a located error
// before the study starts instead of a Python traceback after.
import { Type, type Static } from '@sinclair/typebox';

const Bounds = (description: string) => Type.Tuple([Type.Number(), Type.Number()], { description });
const Step = Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Only multiples of this step above low (Optuna\'s `step`).' }));

const ChoiceValue = Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]);
const When = Type.Optional(Type.Record(Type.String(), Type.Union([ChoiceValue, Type.Array(ChoiceValue, { minItems: 1 })]), {
  description: 'Only suggest this param when each named choice param (declared before it) has this value, or one of these values; '
    + 'otherwise the trial leaves it out (the pipeline\'s own value stands). E.g. momentum only when `fit.optimizer: sgd`.',
}));

export const OptunaDistributionSchema = Type.Union([
  Type.Object({ uniform: Bounds('[low, high]: a real (suggest_float).'), step: Step, when: When }, { additionalProperties: false }),
  Type.Object({ 'log-uniform': Bounds('[low, high]: a real, uniform in log space; both bounds > 0 (suggest_float with log).'), when: When }, { additionalProperties: false }),
  Type.Object({ integer: Bounds('[low, high]: an integer, both bounds included (suggest_int).'), step: Type.Optional(Type.Integer({ minimum: 1, description: 'Only low, low+step, ...' })), log: Type.Optional(Type.Boolean({ description: 'Uniform in log space (bounds >= 1, step 1).' })), when: When }, { additionalProperties: false }),
  Type.Object({ choice: Type.Array(ChoiceValue, { minItems: 1, description: 'One of these values (suggest_categorical).' }), when: When }, { additionalProperties: false }),
], { description: 'How Optuna suggests a param.' });

/** Optuna's sampler names as massflow spells them -> the constructor arguments that take plain data. */
export const SAMPLER_OPTIONS = {
  tpe: ['consider_prior', 'prior_weight', 'consider_magic_clip', 'consider_endpoints', 'n_startup_trials', 'n_ei_candidates', 'multivariate', 'group', 'warn_independent_sampling', 'constant_liar'],
  cmaes: ['x0', 'sigma0', 'n_startup_trials', 'warn_independent_sampling', 'popsize', 'inc_popsize', 'consider_pruned_trials', 'use_separable_cma', 'with_margin', 'lr_adapt'],
  random: [],
  gp: ['n_startup_trials', 'deterministic_objective', 'warn_independent_sampling'],
  nsga2: ['population_size', 'mutation_prob', 'crossover_prob', 'swapping_prob'],
} as const;
export type SamplerName = keyof typeof SAMPLER_OPTIONS;
/** The samplers Optuna lets optimize several objectives at once (CMA-ES refuses a multi-objective study). */
export const MULTI_OBJECTIVE_SAMPLERS: readonly SamplerName[] = ['tpe', 'random', 'gp', 'nsga2'];

/** Pruner names -> the constructor arguments beyond the ones `prune` spells out. */
export const PRUNER_OPTIONS = {
  median: ['n_startup_trials', 'n_warmup_steps', 'interval_steps', 'n_min_trials'],
  'successive-halving': ['min_resource', 'reduction_factor', 'min_early_stopping_rate', 'bootstrap_count'],
  hyperband: ['min_resource', 'max_resource', 'reduction_factor', 'bootstrap_count'],
} as const;
export type PrunerName = keyof typeof PRUNER_OPTIONS;

const names = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)), { errorMessage: `must be one of ${xs.join(', ')}` });

export const PruneSchema = Type.Object(
  {
    pruner: names(Object.keys(PRUNER_OPTIONS) as PrunerName[]),
    metric: Type.String({
      pattern: '^[^/]+/.+$',
      description: 'STAGE/KEY: a metric the stage streams with a step (per epoch). A foreach stage\'s name combines its instances (see `combine`); an instance id takes that instance alone.',
    }),
    combine: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('first')], {
      description: 'For a foreach stage: `mean` reports the mean over its instances at each step once all have reached it (default); `first` reports its first instance\'s curve.',
    })),
    warmup_steps: Type.Optional(Type.Integer({ minimum: 0, description: 'Steps before a trial may be pruned (median: n_warmup_steps).' })),
    startup_trials: Type.Optional(Type.Integer({ minimum: 0, description: 'Trials that finish before any is pruned (median: n_startup_trials).' })),
    options: Type.Optional(Type.Record(Type.String(), Type.Any(), { description: "The pruner's own constructor arguments (Optuna's names)." })),
  },
  { additionalProperties: false, description: 'Stop hopeless trials early from their streamed learning curve.' },
);

export const OptunaSweepSchema = Type.Object(
  {
    sampler: Type.Optional(names(Object.keys(SAMPLER_OPTIONS) as SamplerName[])),
    seed: Type.Optional(Type.Integer({ description: "The sampler's seed: the same seed asks the same trials (one trial at a time)." })),
    sampler_options: Type.Optional(Type.Record(Type.String(), Type.Any(), { description: "The sampler's own constructor arguments (Optuna's names)." })),
    trials: Type.Integer({ minimum: 1, description: 'The study\'s budget: trials that end complete, pruned or failed (a trial interrupted by a crash is asked again, not counted).' }),
    params: Type.Record(Type.String(), OptunaDistributionSchema, { description: 'param -> distribution: the search space.' }),
    prune: Type.Optional(PruneSchema),
    study: Type.Optional(Type.String({ minLength: 1, description: 'The study name in the storage (default: the experiment name).' })),
    storage: Type.Optional(Type.String({
      minLength: 1,
      description: "Where the study lives: an SQLite file (project-relative or absolute; default .massflow/optuna/NAME.db), a file ending in .journal or .log (Optuna's journal file, for several machines or processes sharing a disk; an absolute path lets several clones of the project share it), or a database URL (postgresql://...).",
    })),
  },
  { additionalProperties: false, description: 'Adaptive search with Optuna: trials asked one at a time from a study that learns from the finished ones.' },
);

export type OptunaSweep = Static<typeof OptunaSweepSchema>;
export type OptunaDistribution = Static<typeof OptunaDistributionSchema>;
export type PruneSpec = Static<typeof PruneSchema>;
