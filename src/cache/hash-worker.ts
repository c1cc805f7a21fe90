// Small files hashed on a second thread while the main one walks the tree. `find | xargs sha256sum`
// walks and hashes in two processes at once; one thread doing both runs at about half that rate
// when a core is free. One worker, started by the first large cold tree and kept for the process
// (unreferenced while idle, so it never holds the process open); batches of paths go to it as the
// walk finds them, and their digests come back in order.
import { Worker } from 'node:worker_threads';
import type { Digest } from '../core/brand.js';
import { SMALL_FILE } from './hash-file.js';

// The worker's source (a string: it runs the same from src/ under tsx as from dist/). The reads are
// hashSmallFileSync's: open, read into one reused buffer up to the stat's size, close; null for a
// file that has grown to SMALL_FILE bytes, which the caller streams.
const SOURCE = `
const { closeSync, openSync, readSync } = require('node:fs');
const { hash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const SMALL = ${SMALL_FILE};
const buf = Buffer.allocUnsafe(SMALL);
parentPort.on('message', ({ id, paths, sizes }) => {
  const out = [];
  for (let k = 0; k < paths.length; k++) {
    let fd;
    try {
      fd = openSync(paths[k], 'r');
      let n = 0, got;
      do { got = readSync(fd, buf, n, SMALL - n, n); n += got; } while (got !== 0 && n < sizes[k] && n < SMALL);
      out.push(n === SMALL ? null : hash('sha256', buf.subarray(0, n), 'hex'));
    } catch (e) {
      out.push({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  parentPort.postMessage({ id, out });
});`;

type Reply = (string | null | { message: string; code?: string; errno?: number; syscall?: string; path?: string })[];

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

function theWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  const fail = (e: Error) => {
    worker = undefined;
    for (const p of waiting.values()) p.reject(e);
    waiting.clear();
  };
  w.on('message', ({ id, out }: { id: number; out: Reply }) => {
    const p = waiting.get(id)!;
    waiting.delete(id);
    if (!waiting.size) w.unref();
    p.resolve(out);
  });
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the hashing thread stopped (exit ${code})`)));
  w.unref();
  return (worker = w);
}

/** Whether the worker is up already (then even a smaller tree is worth sending to it). */
export const hashWorkerRunning = () => worker !== undefined;

/**
 * The digests of small files (`sizes` from their stats), computed on the worker: undefined for one
 * that has grown past the small-file size. A file that cannot be read rejects with its error, as
 * the same read on this thread would throw it.
 */
export function hashSmallFilesOffThread(paths: string[], sizes: number[]): Promise<(Digest | undefined)[]> {
  const w = theWorker();
  const id = nextId++;
  w.ref();
  return new Promise((resolve, reject) => {
    waiting.set(id, {
      reject,
      resolve: (out) => {
        const digests: (Digest | undefined)[] = [];
        for (const r of out) {
          if (r !== null && typeof r === 'object') return reject(Object.assign(new Error(r.message), { code: r.code, errno: r.errno, syscall: r.syscall, path: r.path }));
          digests.push(r === null ? undefined : (r as Digest));
        }
        resolve(digests);
      },
    });
    w.postMessage({ id, paths, sizes });
  });
}

const BATCH = 256;
/** A cold tree starts the worker only once it has shown this many small files (a thread costs tens of ms to start). */
const START_AT = 2048;

/** Collects a walk's small files and sends them to the worker in batches once there are enough. */
export class OffThreadHashing {
  private paths: string[] = [];
  private sizes: number[] = [];
  private targets: ((d: Digest | undefined) => void)[] = [];
  private seen = 0;
  private readonly sent: Promise<void>[] = [];

  /** `done` gets the digest (undefined: grown past the small-file size) if the file goes to the worker. */
  add(path: string, size: number, done: (d: Digest | undefined) => void): void {
    this.paths.push(path);
    this.sizes.push(size);
    this.targets.push(done);
    if (++this.seen >= START_AT || hashWorkerRunning()) while (this.paths.length >= BATCH) this.send();
  }

  private send(): void {
    const paths = this.paths.splice(0, BATCH), sizes = this.sizes.splice(0, BATCH), targets = this.targets.splice(0, BATCH);
    const p = hashSmallFilesOffThread(paths, sizes).then((ds) => ds.forEach((d, i) => targets[i]!(d)));
    p.catch(() => undefined); // awaited by settle(); a walk that throws first never gets there
    this.sent.push(p);
  }

  /** Waits for every batch sent. Files not sent (too few to be worth a thread) are the caller's to hash. */
  async settle(): Promise<void> {
    await Promise.all(this.sent);
  }
}
