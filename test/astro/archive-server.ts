// A local HTTP server with the SDSS archive's paths, for fetch tests: it serves real files from
// disk (GET with Range support, as the SAS does) and injects faults on chosen paths, one per
// request, in order: 500s, bodies cut short, stalls, garbage, 404s.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export type Fault = '500' | '404' | 'truncate' | 'stall' | 'garbage';

export interface ArchiveServer {
  readonly url: string;
  /** Requests seen per path. */
  readonly hits: Map<string, number>;
  /** Range headers seen per path, in order ('' for none). */
  readonly ranges: Map<string, string[]>;
  /** Faults to inject, consumed one per request to that path. */
  readonly faults: Map<string, Fault[]>;
  close(): Promise<void>;
}

/** `roots` maps a URL prefix (e.g. `/sas/dr12/boss/photoObj/frames/`) to directories searched in order. */
export async function startArchiveServer(roots: Record<string, string[]>): Promise<ArchiveServer> {
  const hits = new Map<string, number>();
  const ranges = new Map<string, string[]>();
  const faults = new Map<string, Fault[]>();
  const stalled: ServerResponse[] = [];
  const find = async (path: string): Promise<string | undefined> => {
    for (const [prefix, dirs] of Object.entries(roots)) {
      if (!path.startsWith(prefix)) continue;
      const rel = decodeURIComponent(path.slice(prefix.length));
      if (rel.includes('..')) return undefined;
      for (const d of dirs) {
        try {
          if ((await stat(join(d, rel))).isFile()) return join(d, rel);
        } catch {
          // next root
        }
      }
    }
    return undefined;
  };
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    ranges.set(path, [...(ranges.get(path) ?? []), req.headers.range ?? '']);
    const fault = faults.get(path)?.shift();
    const file = await find(path);
    if (fault === '500') { res.writeHead(500).end('internal error'); return; }
    if (fault === '404' || !file) { res.writeHead(404).end('not found'); return; }
    const size = (await stat(file)).size;
    if (fault === 'garbage') {
      const junk = Buffer.alloc(size, 0x42);
      res.writeHead(200, { 'content-length': size }).end(junk);
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= size) { res.writeHead(416, { 'content-range': `bytes */${size}` }).end(); return; }
      res.writeHead(206, { 'content-length': size - start, 'content-range': `bytes ${start}-${size - 1}/${size}` });
    } else {
      res.writeHead(200, { 'content-length': size });
    }
    const remaining = size - start;
    if (fault === 'truncate' || fault === 'stall') {
      // Send about a third of the body, then cut the connection or go silent.
      const upto = start + Math.floor(remaining / 3);
      const s = createReadStream(file, { start, end: upto - 1 });
      s.on('data', (c) => res.write(c));
      s.on('end', () => {
        if (fault === 'truncate') res.destroy();
        else stalled.push(res);
      });
      return;
    }
    createReadStream(file, { start }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    hits, ranges, faults,
    close: async () => {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
