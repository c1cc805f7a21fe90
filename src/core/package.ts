// The running massflow installation: the clone, a project's node_modules/massflow, or a global install.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Its root folder (holds package.json, dist/, schema/, stages/, pipelines/, scripts/). */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Its version, from its package.json (npm's environment says nothing when massflow runs from PATH). */
export const MASSFLOW_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The published JSON Schema of pipeline files in this installation. */
export const PIPELINE_SCHEMA_FILE = join(PACKAGE_ROOT, 'schema', 'pipeline.schema.json');
