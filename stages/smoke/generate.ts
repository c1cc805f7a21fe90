// Smoke pipeline, stage 1: draws a noisy linear data set y = a*x + b + noise with a seeded RNG.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../../src/stage/define.js';
import { Rng } from '../../src/ml/rng.js';

export default defineStage({
  description: 'Generate a seeded synthetic regression data set.',
  params: Type.Object({
    data: Type.Object({ n: Type.Integer({ minimum: 10 }), seed: Type.Integer(), noise: Type.Number({ minimum: 0 }), slope: Type.Number(), intercept: Type.Number() }),
  }),
  async run(ctx) {
    const { n, seed, noise, slope, intercept } = ctx.params.data;
    const rng = new Rng(seed);
    const rand = () => rng.next();
    const rows = ['x,y'];
    for (let i = 0; i < n; i++) {
      const x = rand() * 10;
      // Box-Muller for Gaussian noise.
      const g = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
      rows.push(`${x.toFixed(6)},${(slope * x + intercept + noise * g).toFixed(6)}`);
      if (i % 100 === 0) ctx.progress(i, n);
    }
    await mkdir(ctx.outDir, { recursive: true });
    await writeFile(join(ctx.outDir, 'points.csv'), rows.join('\n') + '\n');
    ctx.log(`wrote ${n} points`);
    ctx.metric('rows', n);
  },
});
