// Follows what DVCLive writes while a script trains: each row of `<dir>/plots/metrics/**.tsv`
// (header `step<TAB>name`, or `timestamp<TAB>step<TAB>name`) is a step metric named after the
// file's path below plots/metrics (`train/loss.tsv` -> `train/loss`). Rows already there when the
// stage started are not the stage's: a file is followed from where it ended then, unless it was
// replaced (DVCLive clears its folder when a run starts).
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface TsvPoint { key: string; value: number; step: number; timestamp: number | undefined }

interface FileState { ino: number; born: number; offset: number; prefix: Buffer; partial: string; columns: string[] | undefined }

/** Bytes of a file's start kept to tell a replaced file (same inode reused) from an appended one. */
const PREFIX = 256;

export class DvcLiveFollower {
  private readonly files = new Map<string, FileState>();
  readonly keys = new Set<string>();

  constructor(readonly dir: string) {}

  private get plots() { return join(this.dir, 'plots', 'metrics'); }

  /** Remembers the rows present before the stage starts, so they are not taken for its own. */
  async snapshot(): Promise<void> {
    for (const path of await listTsv(this.plots)) {
      const st = await stat(path).catch(() => undefined);
      if (!st) continue;
      const head = await readRange(path, 0, PREFIX);
      const text = head.toString('utf8');
      const nl = text.indexOf('\n');
      this.files.set(path, { ino: st.ino, born: st.birthtimeMs, offset: st.size, prefix: head, partial: '', columns: nl > 0 ? text.slice(0, nl).split('\t') : undefined });
    }
  }

  /** New rows since the last poll; `bad` gets each row that is not numbers. */
  async poll(bad: (where: string, row: string) => void, final = false): Promise<TsvPoint[]> {
    const points: TsvPoint[] = [];
    const present = new Set(await listTsv(this.plots));
    for (const path of this.files.keys()) if (!present.has(path)) this.files.delete(path); // cleared: reread when back
    for (const path of present) {
      const st = await stat(path).catch(() => undefined);
      if (!st) continue;
      let f = this.files.get(path);
      // Replaced, not appended to: another inode or birth time (a rerun writing the same rows again
      // looks alike otherwise), or shorter, or a different start.
      if (f && (f.ino !== st.ino || f.born !== st.birthtimeMs || st.size < f.offset || !(await readRange(path, 0, f.prefix.length)).equals(f.prefix))) f = undefined;
      if (!f) { f = { ino: st.ino, born: st.birthtimeMs, offset: 0, prefix: Buffer.alloc(0), partial: '', columns: undefined }; this.files.set(path, f); }
      if (st.size === f.offset && !final) continue;
      const chunk = await readRange(path, f.offset, st.size - f.offset);
      f.offset += chunk.length;
      if (f.prefix.length < PREFIX) f.prefix = await readRange(path, 0, Math.min(PREFIX, f.offset));
      const lines = (f.partial + chunk.toString('utf8')).split('\n');
      f.partial = final ? '' : lines.pop()!;
      const key = relative(this.plots, path).split(sep).join('/').replace(/\.tsv$/, '');
      for (const line of lines) {
        if (!line.trim()) continue;
        const cells = line.replace(/\r$/, '').split('\t');
        if (!f.columns) { f.columns = cells; continue; }
        const at = (name: string) => { const i = f!.columns!.indexOf(name); return i >= 0 ? Number(cells[i]) : undefined; };
        const step = at('step'), value = Number(cells[cells.length - 1]), ts = at('timestamp');
        if (step === undefined || !Number.isInteger(step) || step < 0 || !Number.isFinite(value)) { bad(path, line); continue; }
        this.keys.add(key);
        points.push({ key, value, step, timestamp: ts !== undefined && Number.isFinite(ts) ? ts : undefined });
      }
    }
    return points;
  }
}

async function listTsv(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.tsv')).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).sort();
}

async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
