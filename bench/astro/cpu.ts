// CPU seconds of this process and of its finished children (bzip2), from /proc/self/stat on Linux:
// wall time alone misleads on a shared machine, so the benches print both.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export function cpuSeconds(): { self: number; children: number } {
  const self = process.cpuUsage();
  let children = NaN;
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": state is field 3, so cutime/cstime (fields 16, 17) are at 13 and 14.
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    // not Linux: children's CPU unknown
  }
  return { self: (self.user + self.system) / 1e6, children };
}

export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
