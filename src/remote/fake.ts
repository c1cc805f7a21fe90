// In-memory remote for unit tests: counts requests, and can fail or corrupt on demand.
import { Readable } from 'node:stream';
import { RemoteError, type PutBody, type PutResult, type RemoteStore } from './store.js';

export class MemoryRemote implements RemoteStore {
  readonly url: string;
  readonly objects = new Map<string, Buffer>();
  readonly calls = { has: 0, list: 0, get: 0, put: 0 };
  /** Throws (as an unreachable server) once this many puts have succeeded. */
  failAfterPuts: number | undefined;
  down = false;

  constructor(url = 's3://fake/prefix') { this.url = url; }

  private check() { if (this.down) throw new RemoteError(`${this.url}: connection refused`, true); }

  async has(key: string): Promise<boolean> {
    this.check(); this.calls.has++;
    return this.objects.has(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.check(); this.calls.list++;
    for (const k of [...this.objects.keys()].sort()) if (k.startsWith(prefix)) yield k;
  }

  async get(key: string): Promise<Readable | undefined> {
    this.check(); this.calls.get++;
    const v = this.objects.get(key);
    return v ? Readable.from([v]) : undefined;
  }

  async put(key: string, body: PutBody, opts: { ifAbsent?: boolean } = {}): Promise<PutResult> {
    this.check();
    if (this.failAfterPuts !== undefined && this.calls.put >= this.failAfterPuts) throw new RemoteError(`${this.url}: connection reset`, true);
    this.calls.put++;
    if (opts.ifAbsent && this.objects.has(key)) return 'exists';
    // A stream that fails midway fails the put, and nothing is stored, as with a real server.
    const data = body.kind === 'bytes' ? Buffer.from(body.data) : Buffer.concat(await body.stream.toArray());
    this.objects.set(key, data);
    return 'written';
  }
}
