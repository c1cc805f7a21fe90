// Finds a stage's inputs among its deps by what they contain, not by their position in the YAML:
// a `models` dep holds the band classifier and every fold model; a floor.json may or may not be
// listed. Each dep and its direct subdirectories are looked at.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CUTOUTS_FORMAT } from './cutouts.js';
import { FEATURES_FORMAT } from './features.js';
import { BAND_NET_KIND } from './band-net.js';
import { MASS_NET_KIND, RICHNESS_PRETEXT_KIND } from './mass-net.js';
import { CV_FORMAT } from './cv-summary.js';
import { err, ok, type Result } from '../core/result.js';

export interface Inputs {
  cutouts?: string;
  features?: string;
  bandNet?: string;
  /** fold number -> directory of that fold's network 2 trained by the paper's protocol */
  massFolds: Map<number, string>;
  /** variant (paper, pretext, hybrid) -> fold number -> directory of that network 2 */
  massVariants: Map<string, Map<number, string>>;
  /** network 2's trunk pre-trained on log richness (pretrain-richness) */
  pretext?: string;
  /** path of floor.json */
  floor?: string;
  /** directory of a cross-validation summary */
  cv?: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function classify(dir: string, into: Inputs): void {
  const index = readJson(join(dir, 'index.json')) as { format?: string } | undefined;
  if (index?.format === CUTOUTS_FORMAT) into.cutouts ??= dir;
  if (index?.format === FEATURES_FORMAT) into.features ??= dir;
  const model = readJson(join(dir, 'model.json')) as { kind?: string; config?: { fold?: number; variant?: string } } | undefined;
  if (model?.kind === BAND_NET_KIND) into.bandNet ??= dir;
  if (model?.kind === RICHNESS_PRETEXT_KIND) into.pretext ??= dir;
  if (model?.kind === MASS_NET_KIND && typeof model.config?.fold === 'number') {
    // Models written before variants existed were trained by the paper's protocol.
    const variant = model.config.variant ?? 'paper';
    let folds = into.massVariants.get(variant);
    if (!folds) into.massVariants.set(variant, (folds = new Map()));
    if (!folds.has(model.config.fold)) folds.set(model.config.fold, dir);
    if (variant === 'paper') into.massFolds = folds;
  }
  const summary = readJson(join(dir, 'summary.json')) as { format?: string } | undefined;
  if (summary?.format === CV_FORMAT) into.cv ??= dir;
  if (existsSync(join(dir, 'floor.json'))) into.floor ??= join(dir, 'floor.json');
}

export function locateInputs(deps: readonly string[]): Inputs {
  const found: Inputs = { massFolds: new Map(), massVariants: new Map() };
  for (const dep of deps) {
    if (!existsSync(dep)) continue;
    if (statSync(dep).isFile()) {
      if (basename(dep) === 'floor.json') found.floor ??= dep;
      continue;
    }
    classify(dep, found);
    for (const e of readdirSync(dep, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) classify(join(dep, e.name), found);
    }
  }
  return found;
}

const what: Record<'cutouts' | 'features' | 'bandNet' | 'cv' | 'pretext', string> = {
  pretext: `a richness-pretext network (model.json of kind ${RICHNESS_PRETEXT_KIND}, from pretrain-richness)`,
  cutouts: `a cutout dataset (index.json with format ${CUTOUTS_FORMAT}, from make-cutouts)`,
  features: `a feature dataset (index.json with format ${FEATURES_FORMAT}, from extract-features)`,
  bandNet: `a band classifier (model.json of kind ${BAND_NET_KIND}, from pretrain-bands)`,
  cv: `a cross-validation summary (summary.json with format ${CV_FORMAT}, from cross-validate)`,
};

/** The path of one required input, or an error that says what was expected and where it looked. */
export function required(inputs: Inputs, key: keyof typeof what, deps: readonly string[]): Result<string> {
  const v = inputs[key];
  if (v) return ok(v);
  return err(`none of the deps (${deps.join(', ') || 'none declared'}) holds ${what[key]}`);
}
