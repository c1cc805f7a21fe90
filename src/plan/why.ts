// Field-by-field difference between two fingerprint objects, as data (report/describe.ts words it).
import { canonicalJson } from '../cache/canonical.js';
import type { Change } from '../core/run-events.js';
import type { DepState, FingerprintObject } from './fingerprint.js';

export type { Change };

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
