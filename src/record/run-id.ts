// Run ids sort by start time and are unique across concurrent processes.
//
// Format YYYYMMDD-HHMMSS-xxxxxx (UTC). The six hex digits are the millisecond (high 10 bits) and 14
// random bits, so two runs started in the same second still sort in start order (listing runs/,
// "the latest run"), and two processes starting in the same millisecond still differ. Within one
// process ids are strictly increasing even on a clock that stands still or steps back.
import { randomInt } from 'node:crypto';
import { asRunId, type RunId } from '../core/brand.js';

const RANDOM_BITS = 14;
let last = '';

export function newRunId(now = new Date()): RunId {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const suffix = now.getUTCMilliseconds() * 2 ** RANDOM_BITS + randomInt(2 ** RANDOM_BITS);
  let id = `${stamp}-${suffix.toString(16).padStart(6, '0')}`;
  if (id <= last) {
    // Same millisecond as the previous id (or an earlier clock): follow it.
    const [s, x] = [last.slice(0, 15), Number.parseInt(last.slice(16), 16)];
    id = x + 1 < 2 ** 24 ? `${s}-${(x + 1).toString(16).padStart(6, '0')}` : `${s}-ffffff`;
  }
  last = id;
  return asRunId(id);
}
