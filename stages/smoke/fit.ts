// Smoke pipeline, fan-out stage: fits y = a*x + b by gradient descent on all folds but one and
// scores the held-out fold; per-epoch loss is streamed as metrics.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../../src/stage/define.js';

export default defineStage({
  description: 'Fit a line on the training folds, score the held-out fold.',
  params: Type.Object({
    fit: Type.Object({ epochs: Type.Integer({ minimum: 1 }), lr: Type.Number({ exclusiveMinimum: 0 }) }),
    cv: Type.Object({ folds: Type.Integer({ minimum: 2 }) }),
  }),
  async run(ctx) {
    const fold = Number(ctx.vars['fold']);
    const { epochs, lr } = ctx.params.fit;
    const k = ctx.params.cv.folds;
    const csv = await readFile(`${ctx.deps[0]}/points.csv`, 'utf8');
    const pts = csv.trim().split('\n').slice(1).map((l) => l.split(',').map(Number) as [number, number]);
    const train = pts.filter((_, i) => i % k !== fold), test = pts.filter((_, i) => i % k === fold);
    let a = 0, b = 0;
    for (let e = 0; e < epochs; e++) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      let ga = 0, gb = 0, loss = 0;
      for (const [x, y] of train) { const r = a * x + b - y; ga += r * x; gb += r; loss += r * r; }
      a -= (lr * ga) / train.length;
      b -= (lr * gb) / train.length;
      ctx.metric('train_mse', loss / train.length, e);
      ctx.progress(e + 1, epochs);
    }
    const mae = test.reduce((s, [x, y]) => s + Math.abs(a * x + b - y), 0) / test.length;
    await mkdir(dirname(ctx.outDir), { recursive: true });
    await writeFile(ctx.outDir, JSON.stringify({ fold, a, b, mae }, null, 2) + '\n');
    ctx.metric('test_mae', mae);
    ctx.log(`fold ${fold}: a=${a.toFixed(3)} b=${b.toFixed(3)} mae=${mae.toFixed(4)}`);
  },
});
