// Where massflow keeps its state inside a project.
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';

export interface ProjectLayout {
  root: string;
  massflowDir: string;
  cacheDir: string;
  statDir: string;
  fingerprintsDir: string;
  locksDir: string;
  runsDir: string;
}

export function projectLayout(root: string): ProjectLayout {
  const massflowDir = join(root, '.massflow');
  return {
    root,
    massflowDir,
    cacheDir: join(massflowDir, 'cache'),
    statDir: join(massflowDir, 'state', 'stat'),
    fingerprintsDir: join(massflowDir, 'state', 'fingerprints'),
    locksDir: join(massflowDir, 'locks'),
    runsDir: join(root, 'runs'),
  };
}

/** Compiled pipelines kept between commands (./compiled-spec.ts); a sweep workspace has its own. */
export const compiledDir = (layout: Pick<ProjectLayout, 'massflowDir'>) => join(layout.massflowDir, 'state', 'compiled');

/** A stage's log file inside its run's logs/ directory: the id with unsafe characters %-escaped. */
export const logFileName = (id: StageId) => `${id.replace(/[^A-Za-z0-9@=,._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}.log`;
