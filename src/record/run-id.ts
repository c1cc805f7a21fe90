// Run ids sort by start time and are unique across concurrent processes.
import { randomBytes } from 'node:crypto';
import { asRunId, type RunId } from '../core/brand.js';

export function newRunId(now = new Date()): RunId {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return asRunId(`${stamp}-${randomBytes(3).toString('hex')}`);
}
