// The `tracking:` block of a pipeline or experiment file. It belongs to the spec (the tracking
// layer reads it, src/track/config.ts), so the spec's schema embeds it without importing upward.
import { Type, type Static } from '@sinclair/typebox';

/** MLflow's longest experiment name (the tracking client enforces the same figure). */
export const EXPERIMENT_NAME_MAX_LENGTH = 500;

export const TrackingSpecSchema = Type.Object(
  {
    uri: Type.Optional(Type.String({
      minLength: 1,
      description: 'MLflow tracking server URL (http:// or https://, may include a path prefix), or "none" to keep runs local. ' +
        'MLFLOW_TRACKING_URI and --tracking-uri take precedence. Never put credentials here: use MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN.',
    })),
    experiment: Type.Optional(Type.String({
      minLength: 1,
      maxLength: EXPERIMENT_NAME_MAX_LENGTH,
      description: 'MLflow experiment name (created if missing). Defaults to the pipeline or experiment-file name.',
    })),
  },
  { additionalProperties: false, description: 'Where runs are tracked (MLflow).' },
);
export type TrackingSpec = Static<typeof TrackingSpecSchema>;
