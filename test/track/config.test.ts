// Tracking config resolution: precedence (flag > env > spec), the official client's auth and TLS
// variables, validation, and credentials that never show up when the config is printed or stored.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeTrackingConfig, resolveTrackingConfig, type TrackingConfig } from '../../src/track/config.js';

const resolve = (input: Parameters<typeof resolveTrackingConfig>[0]): TrackingConfig => {
  const r = resolveTrackingConfig(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
};
const server = (c: TrackingConfig) => {
  if (c.mode !== 'server') throw new Error(`expected a server config, got ${c.mode}`);
  return c;
};

describe('resolveTrackingConfig', () => {
  it('is offline when nothing names a server', () => {
    expect(resolve({ env: {} })).toEqual({ mode: 'offline' });
    expect(resolve({ env: { MLFLOW_TRACKING_URI: '  ' }, spec: { experiment: 'e' } })).toEqual({ mode: 'offline', experiment: 'e' });
  });

  it('takes the flag over the environment over the spec, for the URI and the experiment', () => {
    const spec = { uri: 'http://spec:1', experiment: 'from-spec' };
    expect(server(resolve({ env: {}, spec })).server.uri).toBe('http://spec:1');
    expect(server(resolve({ env: {}, spec })).source).toBe('spec');
    const env = { MLFLOW_TRACKING_URI: 'http://env:2/prefix/', MLFLOW_EXPERIMENT_NAME: 'from-env' };
    const e = server(resolve({ env, spec }));
    expect([e.server.uri, e.source, e.experiment]).toEqual(['http://env:2/prefix', 'env', 'from-env']);
    const f = server(resolve({ env, spec, flags: { uri: 'https://flag:3', experiment: 'from-flag' } }));
    expect([f.server.uri, f.source, f.experiment]).toEqual(['https://flag:3', 'flag', 'from-flag']);
  });

  it('lets "none" on the command line force offline over the environment', () => {
    expect(resolve({ env: { MLFLOW_TRACKING_URI: 'http://env:2' }, flags: { uri: 'none' } })).toEqual({ mode: 'offline', source: 'flag' });
  });

  it('uses Basic auth from username+password before a token, as the official client does', () => {
    const both = server(resolve({ env: { MLFLOW_TRACKING_URI: 'http://h:1', MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'pw-123456', MLFLOW_TRACKING_TOKEN: 'tok-abcdef' } }));
    expect(both.server.auth.kind).toBe('basic');
    const token = server(resolve({ env: { MLFLOW_TRACKING_URI: 'http://h:1', MLFLOW_TRACKING_TOKEN: 'tok-abcdef' } }));
    expect(token.server.auth.kind).toBe('bearer');
    const fromUri = server(resolve({ env: {}, flags: { uri: 'http://bob:s3cr%40t@h:1' } }));
    expect(fromUri.server.uri).toBe('http://h:1');
    expect(fromUri.server.auth.kind === 'basic' && [fromUri.server.auth.username, fromUri.server.auth.password.reveal()]).toEqual(['bob', 's3cr@t']);
  });

  it('never prints a credential: JSON, inspect and the description all mask it', () => {
    const c = resolve({ env: { MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: 'hunter2-password', MLFLOW_TRACKING_TOKEN: 'tok-xyz-123' }, flags: { uri: 'http://u:uri-pass-999@h:1' } });
    const auth = server(c).server.auth;
    const password = auth.kind === 'basic' ? auth.password : undefined;
    expect(password?.reveal()).toBe('hunter2-password');
    for (const text of [JSON.stringify(c), inspect(c, { depth: 10 }), describeTrackingConfig(c), String(password), `${password}`]) {
      expect(text).not.toContain('hunter2-password');
      expect(text).not.toContain('tok-xyz-123');
      expect(text).not.toContain('uri-pass-999');
    }
    expect(describeTrackingConfig(c)).toBe('http://h:1 (from flag, basic auth as ann)');
  });

  it('reads TLS settings and refuses insecure TLS together with a CA bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-cfg-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    expect(server(resolve({ env: { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_SERVER_CERT_PATH: ca } })).server.tls).toEqual({ insecure: false, caFile: ca });
    expect(server(resolve({ env: { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_INSECURE_TLS: 'true' } })).server.tls).toEqual({ insecure: true });
    const both = resolveTrackingConfig({ env: { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: ca } });
    expect(!both.ok && both.error.map((i) => i.field)).toEqual(['MLFLOW_TRACKING_INSECURE_TLS']);
    const missing = resolveTrackingConfig({ env: { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_CLIENT_CERT_PATH: join(dir, 'nope.pem') } });
    expect(!missing.ok && missing.error[0]?.message).toMatch(/file not found/);
  });

  it('follows the official retry settings and rejects values it cannot use', () => {
    const d = server(resolve({ env: { MLFLOW_TRACKING_URI: 'http://h' } })).server.retry;
    expect([d.maxRetries, d.backoffFactor, d.backoffJitter, d.timeoutMs, d.respectRetryAfter]).toEqual([7, 2, 1, 120_000, true]);
    expect([...d.retryStatuses].sort()).toEqual([408, 429, 500, 502, 503, 504]);
    const custom = server(resolve({ env: { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '3', MLFLOW_HTTP_REQUEST_TIMEOUT: '5', MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER: 'false' } })).server.retry;
    expect([custom.maxRetries, custom.timeoutMs, custom.respectRetryAfter]).toEqual([3, 5000, false]);
    const bad = resolveTrackingConfig({ env: { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '11', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: 'fast' } });
    expect(!bad.ok && bad.error.map((i) => i.field)).toEqual(['MLFLOW_HTTP_REQUEST_MAX_RETRIES', 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR']);
  });

  it('reports every problem at once, with where it came from', () => {
    // An unknown key in the block is the spec compiler's finding (test/corpus/pipelines/tracking-unknown-key).
    const r = resolveTrackingConfig({ env: { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '11' }, spec: { uri: 'http://me:pw-in-spec@h:1' } });
    expect(r.ok).toBe(false);
    const issues = !r.ok ? r.error : [];
    expect(issues.map((i) => [i.source, i.field])).toEqual([['spec', 'tracking.uri'], ['env', 'MLFLOW_HTTP_REQUEST_MAX_RETRIES']]);
    expect(JSON.stringify(issues)).not.toContain('pw-in-spec');
    for (const [uri, pattern] of [['file:///tmp/mlruns', /mlflow up/], ['databricks', /not supported|not a URL/], ['ftp://h', /unsupported scheme/], ['http://h?x=1', /query/], ['::nope', /not a URL/]] as const) {
      const e = resolveTrackingConfig({ env: {}, flags: { uri } });
      expect(!e.ok && e.error[0]?.message).toMatch(pattern);
    }
  });
});
