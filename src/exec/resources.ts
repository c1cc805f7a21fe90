// A resource pool (cpu slots, memory bytes, gpu slots): a stage starts only when what it asks for
// is free, so parallel stages never oversubscribe the machine. Waiters are woken on every release and re-check.
// When the pool knows the GPU devices, a grant names the devices it holds: two stages never share one.
import type { Shortfall } from '../core/run-events.js';
import type { Resources } from '../pipeline/model.js';

export interface Capacity { cpu: number; memoryBytes: number; gpu: number }

export type Fit = { ok: true; grant: Capacity } | { ok: false; short: Shortfall };

/** What a stage holds while it runs; `devices` is undefined when the pool does not manage GPUs. */
export interface Held { release(): void; devices: string[] | undefined }

export class ResourcePool {
  private free: Capacity;
  private waiters: (() => void)[] = [];

  private readonly freeDevices: string[] | undefined;

  /** With `devices`, the GPU slots are those devices (total.gpu is their count). */
  constructor(readonly total: Capacity, readonly devices?: readonly string[]) {
    this.free = { ...total };
    this.freeDevices = devices ? [...devices] : undefined;
  }

  static forMachine(cpu: number, memoryBytes: number, devices: readonly string[] | undefined): ResourcePool {
    return new ResourcePool({ cpu, memoryBytes, gpu: devices?.length ?? 0 }, devices);
  }

  /** What a stage may take: cpu above the total is clamped (it then runs alone); gpu and memory above it cannot run. */
  fit(r: Resources): Fit {
    if (r.gpu > this.total.gpu) return { ok: false, short: { resource: 'gpu', needs: r.gpu, available: this.total.gpu } };
    if (r.memoryBytes > this.total.memoryBytes) return { ok: false, short: { resource: 'memory', needs: r.memoryBytes, available: this.total.memoryBytes } };
    return { ok: true, grant: { cpu: Math.min(r.cpu, this.total.cpu), memoryBytes: r.memoryBytes, gpu: r.gpu } };
  }

  async acquire(want: Capacity, signal: AbortSignal): Promise<Held> {
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
    const devices = this.freeDevices?.splice(0, want.gpu);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.free = { cpu: this.free.cpu + want.cpu, memoryBytes: this.free.memoryBytes + want.memoryBytes, gpu: this.free.gpu + want.gpu };
      if (devices) {
        // Back in the machine's order, so the next stage gets the lowest free device.
        this.freeDevices!.push(...devices);
        this.freeDevices!.sort((a, b) => this.devices!.indexOf(a) - this.devices!.indexOf(b));
      }
      const ws = this.waiters;
      this.waiters = [];
      for (const wake of ws) wake();
    };
    return { release, devices };
  }

  private fits(w: Capacity): boolean {
    return w.cpu <= this.free.cpu + 1e-9 && w.memoryBytes <= this.free.memoryBytes && w.gpu <= this.free.gpu;
  }
}
