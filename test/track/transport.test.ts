// The retry policy and error mapping of the HTTP layer, against a scripted loopback HTTP server
// (the real MLflow server cannot be told to answer 503 or Retry-After on demand).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, MlflowError, backoffMs, parseRetryAfterMs, type RetryPolicy } from '../../src/track/mlflow/index.js';
import { Transport, type Auth } from '../../src/track/mlflow/transport.js';
import { Redactor, Secret } from '../../src/track/secret.js';
import { freePort } from './helpers/server.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function stub(handler: Handler): Promise<{ url: URL; seen: { auth?: string; at: number }[] }> {
  const seen: { auth?: string; at: number }[] = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ ...(req.headers.authorization !== undefined && { auth: req.headers.authorization }), at: Date.now() });
      handler(req, res, seen.length);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { url: new URL(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`), seen };
}

const fast: RetryPolicy = { ...DEFAULT_RETRY_POLICY, backoffFactor: 0.01, backoffJitter: 0, maxRetries: 3, timeoutMs: 2000 };
const transport = (url: URL, policy: RetryPolicy = fast, auth: Auth = { kind: 'none' }, redactor?: Redactor): Transport =>
  new Transport({ baseUrl: url, auth, tls: { insecure: false }, retry: policy, ...(redactor && { redactor }) });
const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('retry policy (urllib3 as configured by the official client)', () => {
  it('waits 0, then factor*2^(n-1) s plus jitter, capped at 120 s', () => {
    const p = { ...DEFAULT_RETRY_POLICY, backoffJitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(p, n))).toEqual([0, 4000, 8000, 16000, 32000, 64000, 120000, 120000]);
    expect(backoffMs(DEFAULT_RETRY_POLICY, 2, () => 0.5)).toBe(4500);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfterMs('3')).toBe(3000);
    expect(parseRetryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
  });
});

describe('Transport', () => {
  it('retries 503 and then succeeds', async () => {
    const s = await stub((_q, res, n) => (n < 3 ? json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }) : json(res, 200, { ok: 1 })));
    const t = transport(s.url);
    expect(await t.json({ method: 'GET', path: '/api/2.0/mlflow/x', retry: 'all' })).toEqual({ ok: 1 });
    expect(s.seen.length).toBe(3);
    await t.close();
  });

  it('honours Retry-After on 429, even for metric writes', async () => {
    const s = await stub((_q, res, n) => (n === 1 ? json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, {})));
    const t = transport(s.url);
    await t.json({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: '{}', retry: 'unapplied' });
    expect(s.seen.length).toBe(2);
    expect(s.seen[1]!.at - s.seen[0]!.at).toBeGreaterThanOrEqual(950);
    await t.close();
  });

  it('gives up after maxRetries and reports the server error code', async () => {
    const s = await stub((_q, res) => json(res, 502, { error_code: 'BAD_GATEWAY', message: 'upstream' }));
    const t = transport(s.url);
    const e = (await t.json({ method: 'GET', path: '/api/2.0/mlflow/x', retry: 'all' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.code, e.status, e.attempts, e.transient, e.applied]).toEqual(['BAD_GATEWAY', 502, 4, true, 'maybe']);
    expect(s.seen.length).toBe(4);
    await t.close();
  });

  it('does not repeat a metric write whose outcome is unknown (500): the caller reconciles first', async () => {
    const s = await stub((_q, res) => json(res, 500, { error_code: 'INTERNAL_ERROR', message: 'db' }));
    const t = transport(s.url);
    const e = (await t.json({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: '{}', retry: 'unapplied' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.kind, e.applied, e.attempts]).toEqual(['http', 'maybe', 1]);
    expect(s.seen.length).toBe(1);
    await t.close();
  });

  it('does not retry a 400 and keeps the server message', async () => {
    const s = await stub((_q, res) => json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Changing param values is not allowed' }));
    const t = transport(s.url);
    const e = (await t.json({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: '{}', retry: 'all' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.code, e.transient, e.applied, s.seen.length]).toEqual(['INVALID_PARAMETER_VALUE', false, 'no', 1]);
    expect(e.message).toMatch(/Changing param values is not allowed/);
    await t.close();
  });

  it('maps a refused connection to "not applied" and retries it even for metric writes', async () => {
    const port = await freePort();
    const t = transport(new URL(`http://127.0.0.1:${port}`), { ...fast, maxRetries: 2 });
    const e = (await t.json({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: '{}', retry: 'unapplied' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.kind, e.code, e.applied, e.attempts]).toEqual(['network', 'CONNECTION_REFUSED', 'no', 3]);
    await t.close();
  });

  it('times out a server that never answers, as "maybe applied"', async () => {
    const s = await stub(() => undefined);
    const t = transport(s.url, { ...fast, timeoutMs: 300 });
    const e = (await t.json({ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', json: '{}', retry: 'unapplied' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.code, e.applied]).toEqual(['TIMEOUT', 'maybe']);
    await t.close();
  });

  it('maps a non-JSON 401 to UNAUTHENTICATED and sends Basic auth without leaking it', async () => {
    const s = await stub((q, res) => {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="mlflow"' });
      res.end(`You are not authenticated (${q.headers.authorization}) pw=pa55-word-x`);
    });
    const t = transport(s.url, fast, { kind: 'basic', username: 'ann', password: new Secret('pa55-word-x') }, new Redactor(['pa55-word-x']));
    const e = (await t.json({ method: 'GET', path: '/api/2.0/mlflow/experiments/get', retry: 'all' }).catch((x: unknown) => x)) as MlflowError;
    expect([e.code, e.status, e.configuration]).toEqual(['UNAUTHENTICATED', 401, true]);
    expect(s.seen[0]!.auth).toBe(`Basic ${Buffer.from('ann:pa55-word-x').toString('base64')}`);
    expect(e.message).not.toContain('pa55-word-x');
    expect(e.message).toMatch(/MLFLOW_TRACKING_USERNAME/);
    await t.close();
  });

  it('sends a bearer token', async () => {
    const s = await stub((_q, res) => json(res, 200, {}));
    const t = transport(s.url, fast, { kind: 'bearer', token: new Secret('tok-123456') });
    await t.json({ method: 'GET', path: '/api/2.0/mlflow/x', retry: 'all' });
    expect(s.seen[0]!.auth).toBe('Bearer tok-123456');
    await t.close();
  });
});
