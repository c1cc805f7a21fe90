// The stage graph: edges from `needs` and from an out of one stage being (inside) a dep of another;
// duplicate or overlapping outs and cycles are located errors.
import type { StageId } from '../core/brand.js';
import { diag, type Diagnostic } from './diagnostics.js';
import type { StageInstance } from './model.js';
import type { YamlSource } from './yaml-source.js';

export interface GraphResult {
  upstream: Map<StageId, StageId[]>;
  /** Topological order (stable: declaration order among ready stages), undefined on a cycle. */
  order: StageId[] | undefined;
  diagnostics: Diagnostic[];
}

/** Index of out paths allowing "which outs are at, above or below this path" in O(log n). */
export class OutIndex {
  private readonly exact = new Map<string, StageId>();
  private readonly sorted: string[];

  constructor(stages: readonly StageInstance[]) {
    for (const s of stages) {
      for (const o of s.outs) if (!this.exact.has(o)) this.exact.set(o, s.id);
      for (const o of s.metrics) if (!this.exact.has(o)) this.exact.set(o, s.id);
    }
    this.sorted = [...this.exact.keys()].sort();
  }

  owner(path: string): StageId | undefined { return this.exact.get(path); }

  /** Outs equal to `path`, containing it, or inside it, with their producing stage. */
  related(path: string): { out: string; stage: StageId }[] {
    const res: { out: string; stage: StageId }[] = [];
    // The path itself, then each parent directory, longest first.
    for (let p = path, cut = path.length; cut > 0; cut = p.lastIndexOf('/'), p = cut > 0 ? p.slice(0, cut) : p) {
      const s = this.exact.get(p);
      if (s) res.push({ out: p, stage: s });
    }
    const prefix = path + '/';
    let lo = 0, hi = this.sorted.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.sorted[mid]! < prefix) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.startsWith(prefix); i++) {
      res.push({ out: this.sorted[i]!, stage: this.exact.get(this.sorted[i]!)! });
    }
    return res;
  }
}

export function buildEdges(stages: readonly StageInstance[], source: YamlSource | undefined): GraphResult {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map(stages.map((s) => [s.id, s] as const));
  const outLoc = (s: StageInstance, out: string) => {
    const field = s.outs.includes(out) ? 'outs' : 'metrics';
    const i = (field === 'outs' ? s.outs : s.metrics).indexOf(out);
    return source?.locate([...s.yamlPath, field, i]);
  };

  // Two stages writing one path (or one writing inside another's out) is ambiguous.
  const index = new OutIndex(stages);
  const overlaps = (s: StageInstance, out: string) => {
    for (const r of index.related(out)) {
      if (r.stage === s.id) continue;
      const other = byId.get(r.stage)!;
      if (r.out === out && stages.indexOf(other) > stages.indexOf(s)) continue; // report once, at the later one
      if (r.out !== out && !out.startsWith(r.out + '/')) continue; // report overlap at the inner path
      const message = r.out === out
        ? `'${out}' is written by both '${other.id}' and '${s.id}'`
        : `'${out}' (written by '${s.id}') is inside '${r.out}', written by '${other.id}'`;
      const loc = outLoc(s, out);
      const otherLoc = outLoc(other, r.out);
      diagnostics.push(diag('duplicate-out', message, loc, otherLoc ? [{ message: `'${other.id}' writes '${r.out}' here`, location: otherLoc }] : []));
    }
  };
  for (const s of stages) {
    for (const out of s.outs) overlaps(s, out);
    for (const out of s.metrics) overlaps(s, out);
  }

  const upstream = new Map<StageId, StageId[]>();
  const related = new Map<string, { out: string; stage: StageId }[]>(); // 10^4 instances often share a dep
  for (const s of stages) {
    // In first-seen order without duplicates; a list, not a Set: most stages have one or two.
    const ups: StageId[] = [];
    for (const n of s.needs) if (!ups.includes(n)) ups.push(n);
    for (const dep of s.deps) {
      let rs = related.get(dep);
      if (!rs) related.set(dep, rs = index.related(dep));
      for (const r of rs) if (r.stage !== s.id && !ups.includes(r.stage)) ups.push(r.stage);
    }
    upstream.set(s.id, ups);
  }

  const order = topoOrder(stages, upstream);
  if (!order) {
    for (const cycle of findCycles(stages, upstream)) {
      const first = byId.get(cycle[0]!)!;
      diagnostics.push(diag(
        'cycle',
        `cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
        first.location,
        cycle.slice(1).map((id) => ({ message: `'${id}' is on the cycle`, location: byId.get(id)!.location! })).filter((r) => r.location),
      ));
    }
  }
  return { upstream, order, diagnostics };
}

function topoOrder(stages: readonly StageInstance[], upstream: Map<StageId, StageId[]>): StageId[] | undefined {
  // By position, in typed arrays: Map lookups by id were most of the cost at 10^5 instances.
  const pos = new Map<StageId, number>();
  stages.forEach((s, i) => pos.set(s.id, i));
  const indeg = new Int32Array(stages.length);
  const down: number[][] = new Array(stages.length);
  stages.forEach((s, i) => {
    const ups = upstream.get(s.id)!;
    indeg[i] = ups.length;
    for (const u of ups) {
      const j = pos.get(u)!;
      // Appended in place: one stage feeding 10^4 instances would otherwise copy O(n^2) ids.
      (down[j] ??= []).push(i);
    }
  });
  const ready: number[] = [];
  for (let i = 0; i < stages.length; i++) if (indeg[i] === 0) ready.push(i);
  const order: StageId[] = [];
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k]!;
    order.push(stages[i]!.id);
    for (const d of down[i] ?? []) if (--indeg[d]! === 0) ready.push(d);
  }
  return order.length === stages.length ? order : undefined;
}

/** Every elementary cycle found by Tarjan's SCCs, one per strongly connected component. */
function findCycles(stages: readonly StageInstance[], upstream: Map<StageId, StageId[]>): StageId[][] {
  let index = 0;
  const idx = new Map<StageId, number>(), low = new Map<StageId, number>();
  const stack: StageId[] = [], on = new Set<StageId>();
  const sccs: StageId[][] = [];
  const visit = (v: StageId) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of upstream.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: StageId[] = [];
      let w: StageId;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      const selfLoop = (upstream.get(v) ?? []).includes(v);
      if (comp.length > 1 || selfLoop) sccs.push(comp);
    }
  };
  for (const s of stages) if (!idx.has(s.id)) visit(s.id);
  // Present each cycle in dependency order (upstream first), starting from the earliest-declared stage.
  const pos = new Map(stages.map((s, i) => [s.id, i] as const));
  return sccs.map((comp) => {
    const set = new Set(comp);
    const start = [...comp].sort((a, b) => pos.get(a)! - pos.get(b)!)[0]!;
    const path: StageId[] = [start];
    const seen = new Set([start]);
    let cur = start;
    for (;;) {
      const downs = stages.filter((s) => set.has(s.id) && upstream.get(s.id)!.includes(cur)).map((s) => s.id);
      const next = downs.find((d) => !seen.has(d));
      if (!next) break;
      path.push(next); seen.add(next); cur = next;
    }
    return path;
  });
}
