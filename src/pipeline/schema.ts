// The one schema of a pipeline file: TS types are derived from it (Static), validation runs on it,
// and `schema/pipeline.schema.json` is generated from it (a test keeps the published file equal).
import { Type, type Static } from '@sinclair/typebox';
import { TrackingSpecSchema } from '../track/tracking-schema.js';
import { RemoteSpecSchema } from './remote-schema.js';

export const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Shown by the CLI and by editors (yaml-language-server reads patternErrorMessage/errorMessage). */
const MEMORY_MESSAGE = 'expected bytes or a size such as 2GiB or 512MB: digits, then B, KB, MB, GB, TB or KiB, MiB, GiB, TiB';

const PathList = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

export const ResourcesSchema = Type.Object(
  {
    cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'CPU slots the stage occupies (default 1).' })),
    // The string branch first: editors report the first branch's problem when none matches, and
    // `memory: 2 gigabytes` should say what a size looks like, not that a number was expected.
    memory: Type.Optional(
      Type.Union([Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?\\s*([KMGT]i?B?|B)?$', patternErrorMessage: MEMORY_MESSAGE }), Type.Number({ minimum: 0 })], {
        description: 'Memory the stage needs: bytes, or a size such as 2GiB or 512MB.',
        errorMessage: MEMORY_MESSAGE,
      }),
    ),
    gpu: Type.Optional(Type.Integer({ minimum: 0, description: 'GPU slots the stage occupies.' })),
    time: Type.Optional(Type.String({ description: 'Wall-time limit, Slurm format (e.g. 1:30:00).' })),
  },
  { additionalProperties: false, description: 'What the stage needs while it runs; the scheduler never oversubscribes.' },
);

export const SlurmOptionsSchema = Type.Object(
  {
    partition: Type.Optional(Type.String()),
    account: Type.Optional(Type.String()),
    qos: Type.Optional(Type.String()),
    extraArgs: Type.Optional(Type.Array(Type.String(), { description: 'Extra sbatch arguments, passed as given.' })),
  },
  { additionalProperties: false },
);

/**
 * How a job gets the project's code on a node that does not share the project directory
 * (`slurm.shared_fs: false`): a git repository at a commit, or a shell snippet of the user's own.
 */
export const SlurmCheckoutSchema = Type.Union([
  Type.String({ minLength: 1, description: 'A bash snippet run in an empty node-local directory; it must leave the repository holding the project there (e.g. a shallow clone, then npm ci).' }),
  Type.Object({
    git: Type.Optional(Type.String({ minLength: 1, description: "Repository URL or path the job clones (default: the URL of the project repository's `origin`)." })),
    commit: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{7,64}$', description: 'Commit the job checks out (default: the commit checked out where `massflow run` runs).' })),
  }, { additionalProperties: false }),
], {
  description: "How a job makes its working copy of the project's code (slurm.shared_fs: false).",
  errorMessage: 'expected a bash snippet, or { git: URL, commit: HEX } (a commit is 7 to 64 hex digits)',
});

/** The pipeline's `slurm:` block: the per-stage options, and how jobs reach the project's files. */
export const SlurmPipelineOptionsSchema = Type.Object(
  {
    ...SlurmOptionsSchema.properties,
    shared_fs: Type.Optional(Type.Boolean({ description: 'false: compute nodes do not see the project directory; each job runs massflow in a working copy of its own and exchanges results through the remote cache (default true).' })),
    checkout: Type.Optional(SlurmCheckoutSchema),
    massflow: Type.Optional(Type.String({ minLength: 1, description: "The command that runs massflow on a node, with shared_fs: false (default: this installation's node and massflow, at the same paths)." })),
  },
  { additionalProperties: false },
);

/** A program and its arguments (numbers and booleans are passed as written), or one shell command string. */
export const CmdSchema = Type.Union([
  Type.String({ minLength: 1, description: 'A shell command, run by /bin/sh -c; every ${...} value is quoted as one word.' }),
  Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minItems: 1, description: 'A program and its arguments, run without a shell; a number or boolean is passed as written (1.0e-3 stays 1.0e-3).' }),
]);

export const StageSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    run: Type.Optional(Type.String({ minLength: 1, description: 'A TS stage module (default-exports defineStage(...)).' })),
    cmd: Type.Optional(CmdSchema),
    shell: Type.Optional(Type.Boolean({ description: 'With a cmd list: join it with spaces and run it through /bin/sh (off by default). A cmd string always runs through /bin/sh.' })),
    deps: Type.Optional(PathList('Files or directories whose content enters the fingerprint.')),
    outs: Type.Optional(PathList('Files or directories the stage writes; cached by content.')),
    metrics: Type.Optional(PathList('JSON files of metrics the stage writes (numbers, nested objects, arrays as steps).')),
    params: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Param keys (dotted) the stage reads; only these enter its fingerprint.' })),
    needs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Stages that must finish first, besides those implied by deps.' })),
    foreach: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Union([Type.Array(Type.Any()), Type.String()]), {
        description: 'Fan-out: one instance per value (or per combination of several keys), e.g. { fold: "${range(cv.folds)}" }.',
      }),
    ),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra environment variables.' })),
    resources: Type.Optional(ResourcesSchema),
    summary: Type.Optional(Type.String({ minLength: 1, description: 'A text file the stage writes (inside its outs) that `massflow run` prints when the run ends.' })),
    cache: Type.Optional(Type.Boolean({ description: 'false: always run, never restore (default true).' })),
    slurm: Type.Optional(SlurmOptionsSchema),
    stop_grace: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.String()], {
      description: 'How long the stage may take to stop after SIGTERM before its process group is killed: seconds, or 500ms, 30s, 2m (default 10s).',
    })),
    stdout_metrics: Type.Optional(Type.Union([Type.Boolean(), Type.String({ minLength: 1 })], {
      description: 'Read metrics from output lines: true for `key: value` lines (a `step: N` line sets the step of those after it), or a regular expression with named groups key, value and optionally step.',
    })),
  },
  {
    additionalProperties: false,
    // For editors: a stage is a TS module or a program, never both or neither. The CLI says the same
    // with its own located message (pipeline/compile.ts), so validation here ignores this keyword.
    oneOf: [{ required: ['run'] }, { required: ['cmd'] }],
  },
);


export const ExecutorSchema = Type.Union([
  Type.Literal('local'),
  Type.Literal('slurm'),
]);

export const PipelineSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.Optional(Type.String({ pattern: PIPELINE_NAME.source, description: "Pipeline name; the MLflow experiment by default. Defaults to the file's name without .yaml." })),
    description: Type.Optional(Type.String()),
    params: Type.Optional(Type.Record(Type.String(), Type.Any(), { description: 'Parameter tree; stages declare which keys they read.' })),
    stages: Type.Record(Type.String(), StageSchema, { description: 'Stages by name.' }),
    profiles: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), Type.Record(Type.String(), Type.Any()), {
      description: 'Named param sets, applied with --profile NAME before -p overrides, e.g. full: { "fit.epochs": 200 }.',
    })),
    summary: Type.Optional(Type.Array(Type.String({ pattern: '^[^/]+/.+$' }), {
      description: 'Headline metrics, as STAGE/METRIC (e.g. cross-validate/mae_mean): logged on the top-level MLflow run, so runs compare in the runs table. Default: every metric of the final stages (those no other stage depends on).',
    })),
    tracking: Type.Optional(TrackingSpecSchema),
    executor: Type.Optional(ExecutorSchema),
    remote: Type.Optional(RemoteSpecSchema),
    slurm: Type.Optional(SlurmPipelineOptionsSchema),
  },
  { additionalProperties: false, $id: 'https://massflow.dev/schema/pipeline.schema.json', title: 'massflow pipeline' },
);

export type PipelineSpec = Static<typeof PipelineSchema>;
export type StageSpec = Static<typeof StageSchema>;
export type ResourcesSpec = Static<typeof ResourcesSchema>;
export type SlurmOptions = Static<typeof SlurmOptionsSchema>;
export type SlurmPipelineOptions = Static<typeof SlurmPipelineOptionsSchema>;

export const STAGE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** The published JSON Schema text, byte for byte what `schema/pipeline.schema.json` holds. */
export function pipelineJsonSchema(): string {
  return JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...PipelineSchema }, null, 2) + '\n';
}
