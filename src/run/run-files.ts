// Files a pipeline writes into the workspace for the length of a run (a DVC project's params.yaml
// with `-p` overrides applied), put back as they were afterwards, also when the run fails.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';

/** Writes the files in place of whatever is there (in a trial workspace, links to the project's). */
export async function writeRunFiles(root: string, files: Pipeline['runFiles']): Promise<void> {
  for (const f of files ?? []) {
    const abs = join(root, f.path);
    await rm(abs, { force: true });
    await writeFile(abs, f.text);
  }
}

export async function withRunFiles<T>(root: string, files: Pipeline['runFiles'], body: () => Promise<T>): Promise<T> {
  if (!files?.length) return body();
  const saved: { abs: string; text: string | undefined }[] = [];
  try {
    for (const f of files) {
      const abs = join(root, f.path);
      saved.push({ abs, text: await readFile(abs, 'utf8').catch(() => undefined) });
    }
    await writeRunFiles(root, files);
    return await body();
  } finally {
    for (const s of saved.reverse()) {
      await rm(s.abs, { force: true });
      if (s.text !== undefined) await writeFile(s.abs, s.text);
    }
  }
}
