// Loaded with `--import` into every TS stage process, after tsx: the resolution rules of
// ./resolve-hooks.ts for ES modules, and the same rules for CommonJS, because tsx compiles a stage
// to CommonJS when its project's package.json is not `"type": "module"` (or there is none).
import Module, { register } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBare, isMassflow } from './resolve-hooks.js';

register('./resolve-hooks.js', import.meta.url);

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
const M = Module as unknown as { _resolveFilename: ResolveFilename; _nodeModulePaths(dir: string): string[] };
const SELF_FILE = fileURLToPath(import.meta.url);
// A parent module inside this massflow package: self-reference and its node_modules apply from here.
const self = Object.assign(new Module(SELF_FILE), { filename: SELF_FILE, paths: M._nodeModulePaths(dirname(SELF_FILE)) });
const original = M._resolveFilename;
M._resolveFilename = function (request, parent, isMain, options) {
  if (isMassflow(request)) return original.call(this, request, self, isMain, options);
  try {
    return original.call(this, request, parent, isMain, options);
  } catch (e) {
    if (!isBare(request) || (e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    return original.call(this, request, self, isMain, options);
  }
};
