// Field-by-field difference between two fingerprint objects, in the words `massflow why` prints.
import { canonicalJson } from '../cache/canonical.js';
import type { DepState, FingerprintObject } from './fingerprint.js';

export type Change =
  | { field: 'format'; from: number; to: number }
  | { field: 'params'; key: string; from: unknown; to: unknown; kind: 'changed' | 'added' | 'removed' }
  | { field: 'vars'; key: string; from: unknown; to: unknown }
  | { field: 'code'; path: string; kind: 'changed' | 'added' | 'removed' }
  | { field: 'command'; from: string[]; to: string[] }
  | { field: 'deps'; path: string; kind: 'changed' | 'added' | 'removed' | 'missing' | 'now produced' | 'no longer produced' }
  | { field: 'upstream'; stage: string; kind: 'changed' | 'added' | 'removed' }
  | { field: 'outs'; from: string[]; to: string[] }
  | { field: 'env'; key: string; from: string | undefined; to: string | undefined }
  | { field: 'lockfile' }
  | { field: 'backend'; from: string; to: string };

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function keyDiff<T>(a: Record<string, T>, b: Record<string, T>): { key: string; from: T | undefined; to: T | undefined }[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !same(a[k], b[k])).map((k) => ({ key: k, from: a[k], to: b[k] }));
}

export function diffFingerprints(prev: FingerprintObject, cur: FingerprintObject): Change[] {
  const out: Change[] = [];
  if (prev.format !== cur.format) out.push({ field: 'format', from: prev.format, to: cur.format });
  for (const d of keyDiff(prev.params, cur.params)) {
    out.push({ field: 'params', key: d.key, from: d.from, to: d.to, kind: d.from === undefined ? 'added' : d.to === undefined ? 'removed' : 'changed' });
  }
  for (const d of keyDiff(prev.vars, cur.vars)) out.push({ field: 'vars', key: d.key, from: d.from, to: d.to });
  if (prev.code.kind === 'cmd' && cur.code.kind === 'cmd') {
    if (!same(prev.code.argv, cur.code.argv) || prev.code.shell !== cur.code.shell) out.push({ field: 'command', from: prev.code.argv, to: cur.code.argv });
  } else if (prev.code.kind !== cur.code.kind) {
    out.push({ field: 'command', from: prev.code.kind === 'cmd' ? prev.code.argv : [], to: cur.code.kind === 'cmd' ? cur.code.argv : [] });
  }
  for (const d of keyDiff(prev.code.files, cur.code.files)) {
    out.push({ field: 'code', path: d.key, kind: d.from === undefined ? 'added' : d.to === undefined ? 'removed' : 'changed' });
  }
  for (const d of keyDiff<DepState>(prev.deps, cur.deps)) out.push({ field: 'deps', path: d.key, kind: depKind(d.from, d.to) });
  for (const d of keyDiff(prev.upstream, cur.upstream)) {
    out.push({ field: 'upstream', stage: d.key, kind: d.from === undefined ? 'added' : d.to === undefined ? 'removed' : 'changed' });
  }
  if (!same(prev.outs, cur.outs) || !same(prev.metrics, cur.metrics)) out.push({ field: 'outs', from: [...prev.outs, ...prev.metrics], to: [...cur.outs, ...cur.metrics] });
  for (const d of keyDiff(prev.env, cur.env)) out.push({ field: 'env', key: d.key, from: d.from, to: d.to });
  if (prev.lockfile !== cur.lockfile) out.push({ field: 'lockfile' });
  if (prev.backend !== cur.backend) out.push({ field: 'backend', from: prev.backend, to: cur.backend });
  return out;
}

function depKind(from: DepState | undefined, to: DepState | undefined): Extract<Change, { field: 'deps' }>['kind'] {
  if (from === undefined) return 'added';
  if (to === undefined) return 'removed';
  if (to === 'missing') return 'missing';
  const produced = (x: DepState) => typeof x === 'object';
  if (!produced(from) && produced(to)) return 'now produced';
  if (produced(from) && !produced(to)) return 'no longer produced';
  return 'changed';
}

const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** One line per change, e.g. `params.fit.lr: 0.001 -> 0.0003`. */
export function describeChange(c: Change): string {
  switch (c.field) {
    case 'format': return `cache format: ${c.from} -> ${c.to}`;
    case 'params': return c.kind === 'changed' ? `params.${c.key}: ${show(c.from)} -> ${show(c.to)}` : `params.${c.key}: ${c.kind} (${show(c.kind === 'added' ? c.to : c.from)})`;
    case 'vars': return `vars.${c.key}: ${show(c.from)} -> ${show(c.to)}`;
    case 'code': return `code ${c.path} ${c.kind}`;
    case 'command': {
      // Long arguments both share up front (an interpreter and its runner script) are elided.
      let n = 0;
      while (n < c.from.length - 1 && n < c.to.length - 1 && c.from[n] === c.to[n]) n++;
      if (JSON.stringify(c.from.slice(0, n)).length < 60) n = 0;
      const show = (a: readonly string[]) => `[${n ? '…, ' : ''}${a.slice(n).map((x) => JSON.stringify(x)).join(',')}]`;
      return `cmd: ${show(c.from)} -> ${show(c.to)}`;
    }
    case 'deps': return c.kind === 'changed' ? `deps ${c.path}: digest changed` : `deps ${c.path}: ${c.kind}`;
    case 'upstream': return `upstream ${c.stage} ${c.kind}`;
    case 'outs': return `outs: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
    case 'env': return `env.${c.key}: ${show(c.from)} -> ${show(c.to)}`;
    case 'lockfile': return 'lockfile changed';
    case 'backend': return `backend: ${c.from} -> ${c.to}`;
  }
}

/** A short reason for status lines: the first few changes. */
export function summarizeChanges(cs: readonly Change[], max = 2): string {
  if (cs.length === 0) return 'no change';
  const head = cs.slice(0, max).map(describeChange).join('; ');
  return cs.length > max ? `${head}; +${cs.length - max} more` : head;
}
