// Smoke pipeline, final stage: aggregates the folds into a summary and a metrics file.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { defineStage } from '../../src/stage/define.js';

export default defineStage({
  description: 'Aggregate per-fold scores.',
  async run(ctx) {
    const dir = ctx.deps[0]!;
    const folds = [];
    for (const f of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
      folds.push(JSON.parse(await readFile(join(dir, f), 'utf8')) as { fold: number; mae: number });
    }
    const maes = folds.map((f) => f.mae);
    const mean = maes.reduce((s, x) => s + x, 0) / maes.length;
    const summary = { folds: folds.length, mae: { mean, best: Math.min(...maes), per_fold: maes } };
    await mkdir(ctx.outDir, { recursive: true });
    await writeFile(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    const metricsFile = ctx.metricsFiles[0]!;
    await mkdir(dirname(metricsFile), { recursive: true });
    await writeFile(metricsFile, JSON.stringify({ mae_mean: mean, mae_best: summary.mae.best, mae_fold: maes }) + '\n');
    ctx.log(`mean MAE over ${folds.length} folds: ${mean.toFixed(4)}`);
  },
});
