// Where tracking goes: resolved from a CLI flag, the environment (the official client's variables)
// and the spec's `tracking:` block, in that order of precedence. Credentials come from the
// environment (or the URI's userinfo outside the spec) and stay inside Secret wrappers.
import { existsSync } from 'node:fs';
import { DEFAULT_RETRY_POLICY, retryPolicyFromEnv, type RetryPolicy } from './mlflow/retry.js';
import type { Auth, TlsSettings } from './mlflow/transport.js';
import { LIMITS } from './mlflow/limits.js';
import { Secret } from './secret.js';
import type { TrackingSpec } from './tracking-schema.js';
import { err, ok, type Result } from '../core/result.js';

// The `tracking:` block's schema lives with the spec that holds it, whose compiler checks the block
// (with the rest of the file, located); nothing here loads the schema validator, which would cost
// every run that tracks about as much CPU as the rest of its start.
export type { TrackingSpec };

export interface TrackingFlags {
  /** `--tracking-uri`; `none` forces offline. */
  readonly uri?: string;
  /** `--experiment`. */
  readonly experiment?: string;
}

export type ConfigSource = 'flag' | 'env' | 'spec';

export interface TrackingServer {
  /** http(s) URL without credentials, query or trailing slash. */
  readonly uri: string;
  readonly auth: Auth;
  /** Every credential seen while resolving, used or not (a URI password overridden by the env): all are masked. */
  readonly secrets: readonly Secret[];
  readonly tls: TlsSettings;
  readonly retry: RetryPolicy;
}

export type TrackingConfig =
  | { readonly mode: 'offline'; readonly experiment?: string; readonly source?: ConfigSource }
  | { readonly mode: 'server'; readonly experiment?: string; readonly source: ConfigSource; readonly server: TrackingServer };

export interface ConfigIssue {
  readonly source: ConfigSource;
  /** `tracking.uri`, `MLFLOW_TRACKING_URI`, `--tracking-uri`, ... */
  readonly field: string;
  readonly message: string;
}

export interface ResolveTrackingInput {
  readonly flags?: TrackingFlags;
  /** Defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The spec's `tracking:` block, as its file's schema checked it (pipeline or experiment file). */
  readonly spec?: TrackingSpec | undefined;
}

const OFFLINE_WORDS = new Set(['none', 'off', 'offline', 'false']);

/**
 * Merges flag > env > spec into one validated config. Returns every problem at once.
 * No server anywhere means offline: runs are recorded under runs/ and `massflow sync` pushes them later.
 */
export function resolveTrackingConfig(input: ResolveTrackingInput = {}): Result<TrackingConfig, ConfigIssue[]> {
  const env = input.env ?? process.env;
  const flags = input.flags ?? {};
  const issues: ConfigIssue[] = [];

  const spec: TrackingSpec = input.spec ?? {};

  const envUri = nonEmpty(env.MLFLOW_TRACKING_URI);
  const pick: { value: string; source: ConfigSource; field: string } | undefined =
    nonEmpty(flags.uri) !== undefined ? { value: flags.uri!.trim(), source: 'flag', field: '--tracking-uri' }
    : envUri !== undefined ? { value: envUri, source: 'env', field: 'MLFLOW_TRACKING_URI' }
    : nonEmpty(spec.uri) !== undefined ? { value: spec.uri!.trim(), source: 'spec', field: 'tracking.uri' }
    : undefined;

  const experimentPick = nonEmpty(flags.experiment) ?? nonEmpty(env.MLFLOW_EXPERIMENT_NAME) ?? nonEmpty(spec.experiment);
  if (experimentPick !== undefined && experimentPick.length > LIMITS.experimentNameLength) {
    issues.push({ source: 'flag', field: 'experiment', message: `experiment name is longer than ${LIMITS.experimentNameLength} characters` });
  }
  // A spec is committed to git: credentials in it would be published.
  const rawSpecUri = (input.spec as { uri?: unknown } | null | undefined)?.uri;
  if (typeof rawSpecUri === 'string' && hasUserinfo(rawSpecUri)) {
    issues.push({ source: 'spec', field: 'tracking.uri', message: 'credentials are not allowed in the spec; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead' });
  }

  const experiment = experimentPick !== undefined ? { experiment: experimentPick } : {};
  if (pick === undefined || OFFLINE_WORDS.has(pick.value.toLowerCase())) {
    if (issues.length > 0) return err(issues);
    return ok({ mode: 'offline', ...experiment, ...(pick && { source: pick.source }) });
  }

  const url = parseServerUri(pick.value);
  if (typeof url === 'string') {
    issues.push({ source: pick.source, field: pick.field, message: url });
    return err(issues);
  }

  // Credentials: env username+password first (Basic wins over a token, as in the official client),
  // then the token, then userinfo in a flag/env URI.
  const username = nonEmpty(env.MLFLOW_TRACKING_USERNAME);
  const password = env.MLFLOW_TRACKING_PASSWORD;
  const token = nonEmpty(env.MLFLOW_TRACKING_TOKEN);
  const secrets = [password, token, url.password !== '' ? decodeURIComponent(url.password) : undefined]
    .filter((v): v is string => v !== undefined && v !== '')
    .map((v) => new Secret(v));
  let auth: Auth = { kind: 'none' };
  if (username !== undefined && password !== undefined && password !== '') auth = { kind: 'basic', username, password: new Secret(password) };
  else if (token !== undefined) auth = { kind: 'bearer', token: new Secret(token) };
  else if (url.username !== '' && url.password !== '') {
    auth = { kind: 'basic', username: decodeURIComponent(url.username), password: new Secret(decodeURIComponent(url.password)) };
  }
  url.username = '';
  url.password = '';

  const insecure = parseBool(env.MLFLOW_TRACKING_INSECURE_TLS);
  if (insecure === 'invalid') issues.push({ source: 'env', field: 'MLFLOW_TRACKING_INSECURE_TLS', message: 'expected true or false' });
  const caFile = nonEmpty(env.MLFLOW_TRACKING_SERVER_CERT_PATH);
  const clientCertFile = nonEmpty(env.MLFLOW_TRACKING_CLIENT_CERT_PATH);
  if (insecure === true && caFile !== undefined) {
    issues.push({ source: 'env', field: 'MLFLOW_TRACKING_INSECURE_TLS', message: 'cannot be combined with MLFLOW_TRACKING_SERVER_CERT_PATH: either trust a CA or skip verification' });
  }
  for (const [field, file] of [['MLFLOW_TRACKING_SERVER_CERT_PATH', caFile], ['MLFLOW_TRACKING_CLIENT_CERT_PATH', clientCertFile]] as const) {
    if (file !== undefined && !existsSync(file)) issues.push({ source: 'env', field, message: `file not found: ${file}` });
  }
  const retry = retryPolicyFromEnv(env, DEFAULT_RETRY_POLICY);
  if (!retry.ok) for (const m of retry.error) issues.push({ source: 'env', field: m.split('=')[0] ?? 'MLFLOW_HTTP_*', message: m });

  if (issues.length > 0 || !retry.ok) return err(issues);
  const tls: TlsSettings = {
    insecure: insecure === true,
    ...(caFile !== undefined && { caFile }),
    ...(clientCertFile !== undefined && { clientCertFile }),
  };
  const uri = url.toString().replace(/\/+$/, '');
  return ok({ mode: 'server', ...experiment, source: pick.source, server: { uri, auth, secrets, tls, retry: retry.value } });
}

/** A one-line description that is safe to print or store: never contains a secret. */
export function describeTrackingConfig(config: TrackingConfig): string {
  if (config.mode === 'offline') return 'offline (runs kept under runs/, push later with `massflow sync`)';
  const auth = config.server.auth.kind === 'basic' ? `, basic auth as ${config.server.auth.username}`
    : config.server.auth.kind === 'bearer' ? ', bearer token' : '';
  const tls = config.server.tls.insecure ? ', TLS verification off' : config.server.tls.caFile ? ', custom CA' : '';
  return `${config.server.uri} (from ${config.source}${auth}${tls})`;
}

/** Removes credentials from any URL-looking text, for messages that quote a user-supplied URI. */
export function stripUserinfo(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

function parseServerUri(raw: string): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${JSON.stringify(stripUserinfo(raw))} is not a URL; expected http://host:port or https://host[/prefix], or "none"`;
  }
  const shown = JSON.stringify(stripUserinfo(raw));
  if (url.protocol === 'databricks:' || raw === 'databricks') return `${shown}: Databricks tracking is not supported; use the workspace's REST URL with a token`;
  if (url.protocol === 'file:' || url.protocol === 'sqlite:' || url.protocol.startsWith('postgres') || url.protocol.startsWith('mysql')) {
    return `${shown}: massflow talks to an MLflow tracking server over HTTP; run \`massflow mlflow up\` (or \`mlflow server --backend-store-uri ...\`) and use its http:// URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${shown}: unsupported scheme ${url.protocol}; expected http or https`;
  if (url.search !== '' || url.hash !== '') return `${shown}: a tracking URI has no query string or fragment`;
  return url;
}

function hasUserinfo(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.username !== '' || u.password !== '';
  } catch {
    return /:\/\/[^/]*@/.test(raw);
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function parseBool(v: string | undefined): boolean | undefined | 'invalid' {
  const t = v?.trim().toLowerCase();
  if (t === undefined || t === '') return undefined;
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  return 'invalid';
}
