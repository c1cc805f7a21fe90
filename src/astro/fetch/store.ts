// A content-addressed store for downloaded archive files, kept outside any stage's outputs so a
// rerun finds what an earlier run fetched. Layout under the store root:
//   objects/ab/abcdef...   the bytes, named by their SHA-256 (never rewritten once there)
//   refs/<archive path>    text "sha256 size": which object holds that archive file
//   partial/<key>.part     an unfinished download, resumable with an HTTP Range request
// Objects and refs are written to a temporary name and renamed, so a killed run leaves either the
// old state or the new one, never a half-written object a later run would trust.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface StoredRef {
  readonly sha256: string;
  readonly size: number;
}

export class ObjectStore {
  constructor(readonly root: string) {}

  objectPath(sha256: string): string {
    return join(this.root, 'objects', sha256.slice(0, 2), sha256);
  }

  refPath(key: string): string {
    return join(this.root, 'refs', key);
  }

  partialPath(key: string): string {
    return join(this.root, 'partial', `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.part`);
  }

  /** The object recorded for `key`, if the ref exists and its object is present with the recorded size. */
  async lookup(key: string): Promise<StoredRef | undefined> {
    let text: string;
    try {
      text = await readFile(this.refPath(key), 'utf8');
    } catch {
      return undefined;
    }
    const m = /^([0-9a-f]{64}) (\d+)\s*$/.exec(text);
    if (!m) return undefined;
    const ref = { sha256: m[1]!, size: Number(m[2]) };
    try {
      const s = await stat(this.objectPath(ref.sha256));
      return s.size === ref.size ? ref : undefined;
    } catch {
      return undefined;
    }
  }

  /** Re-hashes an object: true when its bytes still match its name. */
  async verify(ref: StoredRef): Promise<boolean> {
    return (await sha256File(this.objectPath(ref.sha256))) === ref.sha256;
  }

  /** Moves a finished, validated file into the store and records `key` -> object. */
  async commit(key: string, file: string): Promise<StoredRef> {
    const sha256 = await sha256File(file);
    const { size } = await stat(file);
    const obj = this.objectPath(sha256);
    await mkdir(dirname(obj), { recursive: true });
    try {
      await stat(obj);
      await rm(file, { force: true }); // identical bytes already stored
    } catch {
      await rename(file, obj);
    }
    const ref = this.refPath(key);
    await mkdir(dirname(ref), { recursive: true });
    const tmp = `${ref}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, `${sha256} ${size}\n`);
    await rename(tmp, ref);
    return { sha256, size };
  }

  /** Puts an object at `dest` (hard link when the filesystem allows, else a copy). */
  async materialize(ref: StoredRef, dest: string): Promise<void> {
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    try {
      await link(this.objectPath(ref.sha256), dest);
    } catch {
      await copyFile(this.objectPath(ref.sha256), dest);
    }
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
