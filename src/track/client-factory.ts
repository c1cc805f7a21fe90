// Builds the REST client for a resolved server config, with the secrets masked in its errors.
import { MlflowClient } from './mlflow/client.js';
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

export function createClient(server: TrackingServer, opts: { redactor?: Redactor; onAttempt?: () => void; connections?: number } = {}): MlflowClient {
  return new MlflowClient({
    baseUrl: new URL(server.uri),
    auth: server.auth,
    tls: server.tls,
    retry: server.retry,
    redactor: opts.redactor ?? redactorFor(server),
    ...(opts.onAttempt && { onAttempt: opts.onAttempt }),
    ...(opts.connections !== undefined && { connections: opts.connections }),
  });
}
