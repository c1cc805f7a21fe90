// Jobs this project has submitted and not yet seen end, one file per stage fingerprint under
// `.massflow/slurm/`. A runner that is killed leaves them behind; the next runner finds the job
// for the same fingerprint there and re-attaches instead of submitting it again.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobId } from './commands.js';
import type { JobFiles } from './job-script.js';

export interface Submission {
  format: 1;
  fingerprint: string;
  stage: string;
  runId: string;
  jobId: JobId;
  /** The afterok dependencies it was submitted with. */
  afterOk: JobId[];
  submittedAt: string;
  files: JobFiles;
}

export class Submissions {
  constructor(private readonly dir: string) {}

  private path(fingerprint: string) { return join(this.dir, `${fingerprint}.json`); }

  async get(fingerprint: string): Promise<Submission | undefined> {
    try {
      const s = JSON.parse(await readFile(this.path(fingerprint), 'utf8')) as Submission;
      return s.format === 1 && s.fingerprint === fingerprint ? s : undefined;
    } catch {
      return undefined; // none, or torn by a crash mid-write (writes are atomic, so only if edited)
    }
  }

  async put(s: Submission): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(s.fingerprint)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
    await rename(tmp, this.path(s.fingerprint));
  }

  /** Forgets the submission, unless the file meanwhile names another job (a newer submission). */
  async remove(s: Pick<Submission, 'fingerprint' | 'jobId'>): Promise<void> {
    const now = await this.get(s.fingerprint);
    if (now && now.jobId !== s.jobId) return;
    await rm(this.path(s.fingerprint), { force: true });
  }
}
