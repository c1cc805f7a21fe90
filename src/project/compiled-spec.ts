// Compiled pipelines kept between commands. Compiling a spec needs the YAML parser and the schema
// validator, whose modules cost more to load than a warm `status` spends on everything else; a
// spec whose text, arguments and compiler are unchanged compiles to the same pipeline, so the
// result is kept under a key of all three. The files the compiler checked for existence are
// recorded with the answers it got, and checked again before a kept result is used.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import type { Pipeline } from '../spec/model.js';
import { writeJsonAtomic } from '../cache/atomic.js';
import { sha256 } from '../cache/canonical.js';

const FORMAT = 1;

interface Kept { v: typeof FORMAT; key: string; exists: [path: string, exists: boolean][]; pipeline: Omit<Pipeline, 'upstream'> & { upstream: [StageId, StageId[]][] } }

/** The identity of compiler code: name, size and mtime of every module file in `dirs` (a rebuild changes it). */
export function codeStamp(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { parts.push(`${dir}:-`); continue; }
    for (const n of names) {
      const st = statSync(join(dir, n), { throwIfNoEntry: false });
      if (st?.isFile()) parts.push(`${dir}/${n}:${st.size}:${st.mtimeMs}`);
    }
  }
  return sha256(parts.join('\n'));
}

export class CompiledSpecs {
  constructor(private readonly dir: string) {}

  private fileFor(key: string) { return join(this.dir, `${key.slice(0, 32)}.json`); }

  /** The pipeline kept under `key`, when every file check it depended on still answers the same. */
  get(key: string, fileExists: (path: string) => boolean): Pipeline | undefined {
    let kept: Kept;
    try { kept = JSON.parse(readFileSync(this.fileFor(key), 'utf8')) as Kept; } catch { return undefined; }
    if (kept.v !== FORMAT || kept.key !== key) return undefined;
    if (!kept.exists.every(([p, e]) => fileExists(p) === e)) return undefined;
    return { ...kept.pipeline, upstream: new Map(kept.pipeline.upstream) };
  }

  /** Keeps a pipeline that compiled without any diagnostic; a project that cannot be written is only slower. */
  async put(key: string, pipeline: Pipeline, exists: Iterable<[string, boolean]>): Promise<void> {
    const kept: Kept = { v: FORMAT, key, exists: [...exists], pipeline: { ...pipeline, upstream: [...pipeline.upstream] } };
    await writeJsonAtomic(this.fileFor(key), kept).catch(() => undefined);
  }
}
