// Where massflow keeps its state inside a project.
import { join } from 'node:path';

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
