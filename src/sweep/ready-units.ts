// Which units of a sweep's DAG may start: a unit becomes ready when the last of its upstream units
// settles. Units join as the sweep learns of them (all at once for a planned sweep, trial by trial
// for an adaptive one); a joining unit counts only the upstream units that have not settled yet.
import type { Unit } from './plan.js';

export class ReadyUnits {
  /** Ready to be looked at, in the order they became ready. */
  readonly queue: Unit[] = [];
  private readonly down = new Map<Unit, Unit[]>();
  private readonly waiting = new Map<Unit, number>();

  /** Units joining the DAG; `settled` says which of their upstream units have already ended. */
  add(units: readonly Unit[], settled: (u: Unit) => boolean): void {
    for (const u of units) {
      let n = 0;
      for (const v of new Set(u.upstream)) {
        if (settled(v)) continue;
        n++;
        (this.down.get(v) ?? this.down.set(v, []).get(v)!).push(u);
      }
      this.waiting.set(u, n);
      if (n === 0) this.queue.push(u);
    }
  }

  /** A unit ended: the units downstream of it that waited only for it are ready. */
  settled(u: Unit): void {
    for (const d of this.down.get(u) ?? []) {
      const n = this.waiting.get(d)! - 1;
      this.waiting.set(d, n);
      if (n === 0) this.queue.push(d);
    }
  }
}
