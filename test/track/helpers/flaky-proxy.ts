// A loopback HTTP proxy that loses requests on purpose: some are dropped before they reach the
// server, some after the server has answered (the client never hears that its write landed).
import { createServer, request, type Server } from 'node:http';
import { Rng } from '../../../src/ml/rng.js';
import { listenOnLoopback } from './loopback.js';

export interface FlakyProxy {
  readonly url: string;
  /**
   * `appliedPoints`: metric points in log-batch requests the server answered 200, whether or not
   * the answer reached the client; with exactly-once delivery it equals the points logged.
   */
  readonly stats: { forwarded: number; droppedBefore: number; droppedAfter: number; droppedAfterWrites: number; appliedPoints: number };
  close(): Promise<void>;
}

export async function startFlakyProxy(upstreamPort: number, opts: { dropBefore: number; dropAfter: number; seed?: number }): Promise<FlakyProxy> {
  // Seeded, so a failing run can be replayed with the same seed.
  const rng = new Rng(opts.seed ?? 42);
  const random = () => rng.next();
  const stats = { forwarded: 0, droppedBefore: 0, droppedAfter: 0, droppedAfterWrites: 0, appliedPoints: 0 };
  let writes = 0;
  const server: Server = createServer((req, res) => {
    let r = random();
    // However the dice fall, the first metric writes meet both faults: one is lost after the
    // server applied it, the next before it reaches the server.
    if (req.method === 'POST' && req.url?.includes('log-batch')) {
      writes += 1;
      if (writes === 1) r = opts.dropBefore + opts.dropAfter / 2;
      else if (writes === 2) r = opts.dropBefore / 2;
    }
    if (r < opts.dropBefore) {
      stats.droppedBefore += 1;
      req.socket.destroy();
      return;
    }
    const sent: Buffer[] = [];
    req.on('data', (c: Buffer) => sent.push(c));
    const upstream = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        if (upRes.statusCode === 200 && req.method === 'POST' && req.url?.includes('log-batch')) {
          const body = JSON.parse(Buffer.concat(sent).toString('utf8')) as { metrics?: unknown[] };
          stats.appliedPoints += body.metrics?.length ?? 0;
        }
        // The server has fully answered (and applied the request) by now.
        if (r < opts.dropBefore + opts.dropAfter) {
          stats.droppedAfter += 1;
          if (req.method === 'POST' && req.url?.includes('log-batch')) stats.droppedAfterWrites += 1;
          req.socket.destroy();
          return;
        }
        stats.forwarded += 1;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.end(Buffer.concat(chunks));
      });
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  return { ...(await listenOnLoopback(server)), stats };
}
