// A resource pool (cpu slots, memory bytes, gpu slots): a stage starts only when what it asks for
// is free, so parallel stages never oversubscribe the machine. Waiters are woken on every release and re-check.
import type { Shortfall } from '../core/run-events.js';
import type { Resources } from '../spec/model.js';

export interface Capacity { cpu: number; memoryBytes: number; gpu: number }

export type Fit = { ok: true; grant: Capacity } | { ok: false; short: Shortfall };

export class ResourcePool {
  private free: Capacity;
  private waiters: (() => void)[] = [];

  constructor(readonly total: Capacity) { this.free = { ...total }; }

  /** What a stage may take: cpu above the total is clamped (it then runs alone); gpu and memory above it cannot run. */
  fit(r: Resources): Fit {
    if (r.gpu > this.total.gpu) return { ok: false, short: { resource: 'gpu', needs: r.gpu, available: this.total.gpu } };
    if (r.memoryBytes > this.total.memoryBytes) return { ok: false, short: { resource: 'memory', needs: r.memoryBytes, available: this.total.memoryBytes } };
    return { ok: true, grant: { cpu: Math.min(r.cpu, this.total.cpu), memoryBytes: r.memoryBytes, gpu: r.gpu } };
  }

  async acquire(want: Capacity, signal: AbortSignal): Promise<() => void> {
    while (!this.fits(want)) {
      signal.throwIfAborted();
      await new Promise<void>((wake) => {
        // The abort listener goes when the waiter is woken: a long run waits many times on one signal.
        const onAbort = () => wake();
        this.waiters.push(() => { signal.removeEventListener('abort', onAbort); wake(); });
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.free = { cpu: this.free.cpu - want.cpu, memoryBytes: this.free.memoryBytes - want.memoryBytes, gpu: this.free.gpu - want.gpu };
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free = { cpu: this.free.cpu + want.cpu, memoryBytes: this.free.memoryBytes + want.memoryBytes, gpu: this.free.gpu + want.gpu };
      const ws = this.waiters;
      this.waiters = [];
      for (const wake of ws) wake();
    };
  }

  private fits(w: Capacity): boolean {
    return w.cpu <= this.free.cpu + 1e-9 && w.memoryBytes <= this.free.memoryBytes && w.gpu <= this.free.gpu;
  }
}
