// Objects written without an fsync each, made safe by a marker instead. Waiting for the disk once
// per object is most of what a large pull or commit costs (1 GiB here: 4.4 s with fsync, 0.44 s
// into the page cache), and the page cache survives any process dying, SIGKILL included: only the
// kernel going down (a crash, a power cut) can lose written bytes. So before the first unfsynced
// object, a durable marker named by the kernel's boot id records when such writes began. A store
// opened under another boot id finds the marker, hashes every object written since then, removes
// those that do not hash to their name (torn by the crash), and drops the marker. A marker older
// than a few minutes is moved forward after `sync -f`, so that check stays small on a machine that
// runs for months. Where the boot id cannot be read (not Linux), or MASSFLOW_CACHE_FSYNC=1, every
// object is fsynced as before.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileDurableSync } from './atomic.js';
import { hashFileSync } from './hash-file.js';

const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** A marker this old is moved forward (after `sync -f`) by the next writer. */
export const MARKER_REFRESH_MS = 10 * 60_000;
/** Objects changed this long before a marker's time are checked too (a clock stepped back a little). */
const CLOCK_SLACK_MS = 2_000;
const HEX62 = /^[0-9a-f]{62}$/;

/** The kernel's id for this boot; undefined where there is none to read. */
export function readBootId(file = BOOT_ID_FILE): string | undefined {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return /^[0-9a-f-]{8,64}$/.test(id) ? id : undefined;
  } catch { return undefined; }
}

interface Marker { boot: string; since: number }

/**
 * What a store opened after an unclean shutdown checked, the torn objects it removed, and those it
 * found torn (or could not read) but could not remove: the store serves none of those, and the
 * marker stays so that the next command with the rights to do so finishes the job.
 */
export interface CrashCheck { since: number; checked: number; removed: string[]; unremovable: { digest: string; why: string }[] }

export class WriteBack {
  /** True when every object is fsynced before it gets its name. */
  readonly durable: boolean;
  private readonly dir: string;
  /** This boot's id; undefined where none can be read. */
  readonly boot: string | undefined;
  private marked = false;

  /** `opts` are for tests: another boot id (undefined: none) and environment than this process's. */
  constructor(root: string, private readonly objectsDir: string, opts: { boot?: string | undefined; env?: NodeJS.ProcessEnv } = {}) {
    this.dir = join(root, 'unsynced');
    this.boot = 'boot' in opts ? opts.boot : readBootId();
    this.durable = this.boot === undefined || (opts.env ?? process.env)['MASSFLOW_CACHE_FSYNC'] === '1';
  }

  private markerPath(boot: string): string { return join(this.dir, boot); }

  private readMarkers(): Marker[] {
    let names: string[];
    try { names = readdirSync(this.dir); } catch { return []; }
    const out: Marker[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      let since = 0; // unreadable: check everything
      try { since = Number((JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as { since?: unknown }).since) || 0; } catch { /* torn marker */ }
      out.push({ boot: name, since });
    }
    return out;
  }

  /**
   * Checks what an earlier boot wrote unfsynced: each object changed since its marker is hashed and
   * removed when torn; then the marker goes. Undefined when there was nothing to check (the usual
   * case: one readdir that finds no folder).
   */
  recover(): CrashCheck | undefined {
    const stray = this.readMarkers().filter((m) => m.boot !== this.boot);
    if (stray.length === 0) return undefined;
    const since = Math.min(...stray.map((m) => m.since));
    const check: CrashCheck = { since, checked: 0, removed: [], unremovable: [] };
    const list = (dir: string): string[] => { try { return readdirSync(dir); } catch { return []; } }; // none yet, or gc removed it
    for (const shard of list(this.objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const shardDir = join(this.objectsDir, shard);
      for (const rest of list(shardDir)) {
        if (!HEX62.test(rest)) continue;
        const path = join(shardDir, rest);
        const st = statSync(path, { throwIfNoEntry: false });
        if (!st || Math.max(st.mtimeMs, st.ctimeMs) < since - CLOCK_SLACK_MS) continue;
        check.checked++;
        let intact: boolean;
        try { intact = hashFileSync(path) === shard + rest; } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // a gc removed it meanwhile
          check.unremovable.push({ digest: shard + rest, why: `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
          continue;
        }
        if (intact) continue;
        try {
          unlinkSync(path);
          check.removed.push(shard + rest);
        } catch (e) {
          check.unremovable.push({ digest: shard + rest, why: `torn, and removing it failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
        }
      }
    }
    if (check.unremovable.length === 0) {
      for (const m of stray) { try { unlinkSync(this.markerPath(m.boot)); } catch { /* another process removed it */ } }
    }
    return check;
  }

  /**
   * Makes sure this boot's marker is on disk before the caller names an object it did not fsync.
   * Synchronous (a few small file operations, once per process), so no caller can slip between.
   */
  beforeUnsynced(): void {
    if (this.marked) return;
    this.mark();
    this.marked = true;
  }

  private mark(): void {
    const boot = this.boot!;
    const path = this.markerPath(boot);
    const current = this.readMarkers().find((m) => m.boot === boot);
    if (current && Date.now() - current.since < MARKER_REFRESH_MS) return;
    const since = Date.now();
    if (current) {
      // Everything written before `sync -f` started is on disk once it returns, so the marker can
      // move to that moment. If it cannot run, the old marker stays (a larger check after a crash).
      try { execFileSync('sync', ['-f', this.dir], { stdio: 'ignore', timeout: 120_000 }); } catch { return; }
    } else {
      mkdirSync(this.dir, { recursive: true });
      fsyncDir(join(this.dir, '..'));
    }
    writeFileDurableSync(path, JSON.stringify({ since }) + '\n');
  }
}
