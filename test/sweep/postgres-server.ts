// A throwaway PostgreSQL server for the Optuna storage test: Debian's own initdb and pg_ctl (apt
// package `postgresql`, which .ci/run installs), a data directory in a temp dir, trust
// authentication, listening on 127.0.0.1 only, on a free port. PostgreSQL refuses to run as root,
// so under root the server runs as the package's `postgres` user.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length) return join(root, versions[0]!, 'bin');
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return onPath ? join(onPath, '..') : undefined;
}

/** A port nothing listens on now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface PgServer { url: string; stop(): void }

/** Why no server can be started here, or undefined when one can. */
export function pgProblem(): string | undefined {
  if (!pgBin()) return "PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)";
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root with no `postgres` user to run the server as';
  return undefined;
}

export async function startPostgres(): Promise<PgServer> {
  const bin = pgBin()!;
  const dir = mkdtempSync(join(tmpdir(), 'massflow-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) => (asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8', timeout: 60_000 }) : execFileSync(join(bin, cmd), args, { encoding: 'utf8', timeout: 60_000 }));
  const data = join(dir, 'data');
  as('initdb', ['-D', data, '-A', 'trust', '-U', 'massflow', '--no-sync', '--no-instructions']);
  const port = await freePort();
  as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -F`, 'start']);
  return {
    url: `postgresql://massflow@127.0.0.1:${port}/postgres`,
    stop() {
      try { as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); } finally { rmSync(dir, { recursive: true, force: true }); }
    },
  };
}
