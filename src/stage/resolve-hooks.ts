// Module resolution hooks for stage processes (registered by ./resolve-register.ts). A stage in a
// researcher's own project imports `massflow/stage` whether or not the project installed massflow:
// `massflow` and `massflow/...` always resolve to the massflow running the stage (so the stage
// contract on both ends of the IPC channel is the same code), and a bare package the project does
// not have (e.g. `@sinclair/typebox`) is looked up among the running massflow's dependencies.
// A `.ts` stage in a project that is not `"type": "module"` (or has no package.json) is loaded as
// an ES module all the same: tsx would compile it to CommonJS, and then every massflow module it
// imports too, which breaks on massflow's ESM-only dependencies.
import { readFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file inside this massflow package: resolving from here reaches its exports and dependencies. */
const SELF = import.meta.url;

export const isMassflow = (s: string) => s === 'massflow' || s.startsWith('massflow/');
export const isBare = (s: string) => !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(s);

const declaredType = new Map<string, string | undefined>();
/** The `type` of the nearest package.json above `dir` (undefined when none says). */
function packageType(dir: string): string | undefined {
  if (declaredType.has(dir)) return declaredType.get(dir);
  let type: string | undefined;
  try {
    type = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string }).type ?? '';
  } catch {
    const up = dirname(dir);
    type = up === dir ? undefined : packageType(up);
  }
  declaredType.set(dir, type);
  return type;
}

export const resolve: ResolveHook = async (specifier, context, next) => {
  if (isMassflow(specifier)) return next(specifier, { ...context, parentURL: SELF });
  let r;
  try {
    r = await next(specifier, context);
  } catch (e) {
    if (!isBare(specifier) || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return next(specifier, { ...context, parentURL: SELF });
  }
  if (r.format === 'commonjs' && r.url.startsWith('file:') && /\.tsx?$/.test(r.url)) {
    const file = fileURLToPath(r.url);
    if (packageType(dirname(file)) !== 'commonjs') return { ...r, format: 'module' };
  }
  return r;
};
