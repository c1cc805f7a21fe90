// Atomic file writes: temp file in the same directory, fsync, rename. A process killed at any
// point leaves either the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// One random start per process, then a counter: unique within the process (the pid makes it unique
// across live ones) without drawing random bytes for each of thousands of small objects.
let tempCounter = randomBytes(4).readUInt32BE(0);
export const tempName = (dir: string, base: string) => {
  tempCounter = (tempCounter + 1) >>> 0;
  return join(dir, `.${base}.tmp-${process.pid}-${tempCounter.toString(16).padStart(8, '0')}`);
};

/** What `tempName` makes; the pid in it names the process writing it. */
const TEMP_NAME = /^\.[a-z]+\.tmp-(\d+)-[0-9a-f]{8}$/;

/** The writer's pid when `name` (a base name) is one of our temp names, else undefined. */
export function tempOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * `durable: false` skips the fsync: for a cache whose loss or a torn copy after a crash costs only
 * recomputing it (the rename still means a reader sees the old file or the new one).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { durable?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = tempName(dir, 'w');
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    if (opts.durable !== false) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** fsync on a directory, so that a rename or creation in it survives a power cut. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* some filesystems refuse fsync on a directory; the rename is still atomic */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `writeFileAtomic` done synchronously and durable to the name: the file and its directory are fsynced. */
export function writeFileDurableSync(path: string, data: string): void {
  const dir = dirname(path);
  const tmp = tempName(dir, 'w');
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally { closeSync(fd); }
  renameSync(tmp, path);
  fsyncDir(dir);
}
