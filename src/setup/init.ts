// `massflow init`: plans the files of a new project (pure), then writes them. A plan that would
// overwrite a file is refused as a whole, so nothing is half-written.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { PACKAGE_ROOT, PIPELINE_SCHEMA_FILE } from '../core/package.js';
import { GITIGNORE_LINES, STARTER_STAGE, starterPipeline } from './templates.js';

export interface PlannedFile {
  /** Relative to the project directory. */
  readonly path: string;
  readonly content: string;
  /** Append to an existing file instead of creating one (.gitignore). */
  readonly append?: boolean;
}

export const EXAMPLES = ['cluster-mass'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

const posix = (p: string) => p.split(sep).join('/');

/**
 * The `$schema` reference for a pipeline file at `fileDir`: relative, so that it resolves from where
 * the file is. A project with its own node_modules/massflow points there (it moves with the project);
 * otherwise at the running massflow's copy.
 */
export function schemaRef(fileDir: string, projectDir: string, schemaFile = 'pipeline.schema.json'): string {
  const local = join(projectDir, 'node_modules', 'massflow', 'schema', schemaFile);
  const target = existsSync(local) ? local : join(dirname(PIPELINE_SCHEMA_FILE), schemaFile);
  const rel = posix(relative(fileDir, target));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function gitignoreLines(projectDir: string): PlannedFile | undefined {
  const file = join(projectDir, '.gitignore');
  const have = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const present = new Set(have.split('\n').map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !present.has(l) && !present.has(`/${l}`));
  if (!missing.length) return undefined;
  const lead = have && !have.endsWith('\n') ? '\n' : '';
  return { path: '.gitignore', content: `${lead}# massflow's state\n${missing.join('\n')}\n`, append: true };
}

/** A pipeline name from the folder name (names allow [A-Za-z0-9_.-], starting alphanumeric). */
export function projectName(projectDir: string): string {
  const n = basename(projectDir).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return n || 'project';
}

export function planStarter(projectDir: string): PlannedFile[] {
  const ignore = gitignoreLines(projectDir);
  return [
    { path: 'massflow.yaml', content: starterPipeline(projectName(projectDir), schemaRef(projectDir, projectDir)) },
    { path: 'stages/hello.ts', content: STARTER_STAGE },
    ...(ignore ? [ignore] : []),
  ];
}

function listFiles(root: string, rel: string): string[] {
  const abs = join(root, rel);
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const p = posix(join(rel, e.name));
    return e.isDirectory() ? listFiles(root, p) : [p];
  });
}

/**
 * The paper pipeline as it is in this installation, made to stand alone: stage imports of
 * massflow's sources (`../src/ml/x.js`) become imports of the package (`massflow/lib/ml/x.js`),
 * and each `$schema` comment points at this installation's schema from where the file lands.
 */
export function planExample(projectDir: string, _name: ExampleName): PlannedFile[] {
  const files = [...listFiles(PACKAGE_ROOT, 'pipelines'), ...listFiles(PACKAGE_ROOT, 'stages'), ...listFiles(PACKAGE_ROOT, 'experiments'), 'scripts/smoke-stats.mjs'];
  const planned = files.map((path): PlannedFile => {
    let content = readFileSync(join(PACKAGE_ROOT, path), 'utf8');
    if (path.endsWith('.ts')) content = content.replace(/(['"])(?:\.\.\/)+src\//g, '$1massflow/lib/');
    content = content.replace(/(\$schema=)\S*?([a-z]+\.schema\.json)/g, (_m, pre: string, file: string) => pre + schemaRef(join(projectDir, dirname(path)), projectDir, file));
    return { path, content };
  });
  const ignore = gitignoreLines(projectDir);
  return [...planned, ...(ignore ? [{ ...ignore, content: ignore.content + '/data/\n/models/\n/metrics/\n/reports/\n' }] : [])];
}

/** The planned files that already exist (and would be overwritten). */
export function conflicts(projectDir: string, plan: readonly PlannedFile[]): string[] {
  return plan.filter((f) => !f.append && existsSync(join(projectDir, f.path))).map((f) => f.path);
}

export function writePlan(projectDir: string, plan: readonly PlannedFile[]): void {
  for (const f of plan) {
    const abs = join(projectDir, f.path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, f.content, { flag: f.append ? 'a' : 'wx' });
  }
}
