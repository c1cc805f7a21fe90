// Builds the REST client for a resolved server config, with the secrets masked in its errors.
import { MlflowClient } from './mlflow/client.js';
import type { TrackingServer } from './config.js';
import { Redactor } from './secret.js';

export function redactorFor(server: TrackingServer | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Redactor {
  const values: (string | undefined)[] = [env.MLFLOW_TRACKING_PASSWORD, env.MLFLOW_TRACKING_TOKEN];
  if (server?.auth.kind === 'basic') values.push(server.auth.password.reveal());
  if (server?.auth.kind === 'bearer') values.push(server.auth.token.reveal());
  for (const s of server?.secrets ?? []) values.push(s.reveal());
  return new Redactor(values);
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
