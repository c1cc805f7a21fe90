// The `tracking:` block of a pipeline or experiment file: a schema alone, so the spec's schema can
// embed it without loading the tracking configuration (config.ts reads the block).
import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from './mlflow/limits.js';

export const TrackingSpecSchema = Type.Object(
  {
    uri: Type.Optional(Type.String({
      minLength: 1,
      description: 'MLflow tracking server URL (http:// or https://, may include a path prefix), or "none" to keep runs local. ' +
        'MLFLOW_TRACKING_URI and --tracking-uri take precedence. Never put credentials here: use MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.',
    })),
    experiment: Type.Optional(Type.String({
      minLength: 1,
      maxLength: LIMITS.experimentNameLength,
      description: 'MLflow experiment name (created if missing). Defaults to the pipeline or experiment-file name.',
    })),
  },
  { additionalProperties: false, description: 'Where runs are tracked (MLflow).' },
);
export type TrackingSpec = Static<typeof TrackingSpecSchema>;
