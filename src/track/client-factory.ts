// Builds the REST client for a resolved server config, with the secrets masked in its errors.
import { MlflowClient } from './mlflow/client.js';
import type { TrackingServer } from './config.js';
import { redactorFor } from './redactors.js';
import type { Redactor } from './secret.js';

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
