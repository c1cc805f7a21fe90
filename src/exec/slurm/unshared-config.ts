// What the Slurm executor needs to run stages on nodes that do not see the project directory
// (`slurm.shared_fs: false`): how a job makes its working copy, where the project and its spec are
// inside it, the command that runs massflow there, and the remote that carries results back.
// Every problem is a located diagnostic, all collected, found before anything is submitted.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diag, type Diagnostic } from '../../pipeline/diagnostics.js';
import type { Pipeline } from '../../pipeline/model.js';
import type { RemoteConfig } from '../../remote/config.js';
import { shq } from './job-script.js';

export interface UnsharedSetup {
  /** Bash lines run in an empty node-local directory that leave the project's repository there. */
  checkout: string;
  /** The project's directory inside that repository ('' for its root). */
  projectPath: string;
  /** The pipeline file, relative to the project. */
  spec: string;
  /** A bash command line that runs massflow on the node. */
  massflow: string;
  /** The remote: its URL, endpoint and region (never credentials) are all a job is told of it. */
  remote: Pick<RemoteConfig, 'url' | 'endpoint' | 'region'>;
}

/** The git questions asked of the project's repository; undefined when git has no answer. */
export interface GitProbe {
  toplevelPrefix(): string | undefined;
  originUrl(): string | undefined;
  head(): string | undefined;
  /** Tracked files with uncommitted changes, relative to the repository. */
  modified(): string[];
}

export function gitProbe(root: string): GitProbe {
  const raw = (...args: string[]) => {
    try { return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }); } catch { return undefined; }
  };
  const git = (...args: string[]) => raw(...args)?.trim();
  return {
    toplevelPrefix: () => git('rev-parse', '--show-prefix')?.replace(/\/$/, ''),
    originUrl: () => git('remote', 'get-url', 'origin') || undefined,
    head: () => git('rev-parse', '--verify', 'HEAD^{commit}') || undefined,
    // `XY path` lines, whose leading blank (X) belongs to the status: not trimmed.
    modified: () => (raw('status', '--porcelain', '--untracked-files=no') ?? '').split('\n').filter(Boolean).map((l) => l.slice(3)),
  };
}

/** This installation's massflow, run by this node binary: right where the nodes have it at the same paths (an image, a module). */
export const thisMassflow = () => [process.execPath, fileURLToPath(new URL('../../../bin/massflow.js', import.meta.url))].map(shq).join(' ');

/** `warnings`: what is allowed but likely to go wrong (uncommitted changes the jobs will not see). */
export type UnsharedChoice = { ok: true; setup: UnsharedSetup; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

/**
 * `purpose`: `massflow run` is the one command whose stages a job can name on its own command line;
 * a sweep's trials and a rerun's pinned inputs exist only where they were made.
 */
export function unsharedSetup(pipeline: Pipeline, remote: RemoteConfig | undefined, purpose: 'run' | 'other', git: GitProbe): UnsharedChoice {
  const at = (...path: string[]) => pipeline.source.locate(['slurm', ...path]);
  const diagnostics: Diagnostic[] = [];
  const o = pipeline.slurm;
  if (purpose !== 'run') {
    diagnostics.push(diag('slurm', 'slurm.shared_fs: false works with `massflow run` only: a sweep or a rerun needs nodes that share the project directory (or --executor local)', at('shared_fs')));
  }
  if (!remote) {
    diagnostics.push(diag('slurm', 'slurm.shared_fs: false needs a remote cache, which carries inputs to the jobs and their results back: add `remote:` (docs/remote.md), or pass --remote s3://BUCKET/PREFIX', at('shared_fs')));
  }
  // Only a cached result reaches the remote, and the remote is the only way back from the node.
  const reported = new Set<string>();
  for (const s of pipeline.stages) {
    if (s.cache || reported.has(s.name)) continue;
    reported.add(s.name);
    diagnostics.push(diag('slurm', `stage '${s.name}' has cache: false, so its job's result could not come back through the remote (slurm.shared_fs: false)`, pipeline.source.locate([...s.yamlPath, 'cache']), [{ message: 'shared_fs is set here', location: at('shared_fs') }]));
  }
  const prefix = git.toplevelPrefix();
  let checkout: string | undefined;
  if (typeof o.checkout === 'string') checkout = o.checkout;
  else {
    const where = o.checkout ? at('checkout') : at('shared_fs');
    const url = o.checkout?.git ?? git.originUrl();
    const commit = o.checkout?.commit ?? git.head();
    if (prefix === undefined && (!o.checkout?.git || !o.checkout.commit)) {
      diagnostics.push(diag('slurm', 'the project is not in a git repository, so a job cannot clone it: set slurm.checkout to a bash snippet that makes a working copy in the current directory', where));
    } else if (!url) {
      diagnostics.push(diag('slurm', "the project's repository has no `origin` remote for jobs to clone: set slurm.checkout.git to a URL the compute nodes can reach", where));
    } else if (!commit) {
      diagnostics.push(diag('slurm', 'the repository has no commit for jobs to check out: commit the project, or set slurm.checkout.commit', where));
    } else {
      // A full clone: any commit can be checked out, whatever the server allows to be fetched by id.
      // A shallow one is a `checkout:` snippet away.
      checkout = `git clone --quiet ${shq(url)} . && git -c advice.detachedHead=false checkout --quiet ${shq(commit)}`;
    }
  }
  if (diagnostics.length || !checkout || !remote) return { ok: false, diagnostics };
  const warnings: Diagnostic[] = [];
  const modified = typeof o.checkout === 'string' || o.checkout?.commit ? [] : git.modified();
  if (modified.length) {
    const named = modified.length > 3 ? `${modified.slice(0, 3).join(', ')} and ${modified.length - 3} more` : modified.join(', ');
    warnings.push(diag('slurm', `uncommitted changes to ${named}: the jobs check out the last commit, so a stage whose fingerprint covers them computes another one in its job, and fails here with no result; commit them first`, o.checkout ? at('checkout') : at('shared_fs'), [], 'warning'));
  }
  return {
    ok: true,
    warnings,
    setup: {
      checkout,
      projectPath: prefix ?? '',
      spec: pipeline.file,
      massflow: o.massflow ?? thisMassflow(),
      remote: { url: remote.url, endpoint: remote.endpoint, region: remote.region },
    },
  };
}
