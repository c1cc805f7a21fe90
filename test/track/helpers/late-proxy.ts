// A loopback HTTP proxy that applies one metric write after the client gave up on it: the first
// log-batch carrying metric points gets no answer (the client times out) and reaches the server
// `delayMs` later, as a slow server or a proxy that keeps going after its client left would.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenOnLoopback } from './loopback.js';

export interface LateProxy {
  readonly url: string;
  /** Metric points in log-batch requests the server answered 200, the late one included. */
  readonly stats: { appliedPoints: number; late: number; lateLandedAt?: number };
  close(): Promise<void>;
}

export async function startLateProxy(upstreamPort: number, opts: { delayMs: number }): Promise<LateProxy> {
  const stats: LateProxy['stats'] = { appliedPoints: 0, late: 0 };
  const forward = (method: string, path: string, headers: IncomingHttpHeaders, body: Buffer, done: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void): void => {
    const up = request({ host: '127.0.0.1', port: upstreamPort, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 200 && path.includes('log-batch')) {
          stats.appliedPoints += (JSON.parse(body.toString('utf8')) as { metrics?: unknown[] }).metrics?.length ?? 0;
        }
        done(res.statusCode ?? 502, res.headers, Buffer.concat(chunks));
      });
    });
    up.on('error', () => done(502, {}, Buffer.alloc(0)));
    up.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const isMetricWrite = req.method === 'POST' && path.includes('log-batch') && ((JSON.parse(body.toString('utf8')) as { metrics?: unknown[] }).metrics?.length ?? 0) > 0;
      if (isMetricWrite && stats.late === 0) {
        stats.late = 1;
        // No answer: the client's timeout fires first; the server applies the write afterwards.
        setTimeout(() => forward(req.method!, path, req.headers, body, () => {
          stats.lateLandedAt = Date.now();
          req.socket.destroy();
        }), opts.delayMs);
        return;
      }
      forward(req.method!, path, req.headers, body, (status, headers, out) => {
        res.writeHead(status, headers);
        res.end(out);
      });
    });
  });
  return { ...(await listenOnLoopback(server)), stats };
}
