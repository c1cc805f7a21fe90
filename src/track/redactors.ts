// The tracking secrets the runner knows, as redactors: for the outbox, a stage's printed output and
// the REST client's errors. Kept apart from the client so that an offline run, or a stage's output
// masking, does not load the HTTP stack.
import type { TrackingConfig, TrackingServer } from './config.js';
import { Redactor } from './secret.js';

export function redactorFor(server: TrackingServer | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Redactor {
  const values: (string | undefined)[] = [env.MLFLOW_TRACKING_PASSWORD, env.MLFLOW_TRACKING_TOKEN, uriPassword(env.MLFLOW_TRACKING_URI)];
  if (server?.auth.kind === 'basic') values.push(server.auth.password.reveal());
  if (server?.auth.kind === 'bearer') values.push(server.auth.token.reveal());
  for (const s of server?.secrets ?? []) values.push(s.reveal());
  return new Redactor(values);
}

/**
 * Masks every tracking secret the runner knows (the configured server's, and the environment's even
 * when the run is offline) in text a stage printed, before it is stored, shown or uploaded.
 */
export function secretMasker(config: TrackingConfig | undefined, env: Readonly<Record<string, string | undefined>> = process.env): (text: string) => string {
  const r = redactorFor(config?.mode === 'server' ? config.server : undefined, env);
  return (text) => r.redact(text);
}

function uriPassword(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  try {
    const p = new URL(uri).password;
    return p === '' ? undefined : decodeURIComponent(p);
  } catch {
    return undefined;
  }
}
