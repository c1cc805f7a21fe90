// Module resolution hooks for stage processes (registered by ./resolve-register.ts). A stage in a
// researcher's own project imports `massflow/stage` whether or not the project installed massflow:
// `massflow` and `massflow/...` always resolve to the massflow running the stage (so the stage
// contract on both ends of the IPC channel is the same code), and a bare package the project does
// not have (e.g. `@sinclair/typebox`) is looked up among the running massflow's dependencies.
import type { ResolveHook } from 'node:module';

/** A file inside this massflow package: resolving from here reaches its exports and dependencies. */
const SELF = import.meta.url;

export const isMassflow = (s: string) => s === 'massflow' || s.startsWith('massflow/');
export const isBare = (s: string) => !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(s);

export const resolve: ResolveHook = async (specifier, context, next) => {
  if (isMassflow(specifier)) return next(specifier, { ...context, parentURL: SELF });
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!isBare(specifier) || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return next(specifier, { ...context, parentURL: SELF });
  }
};
