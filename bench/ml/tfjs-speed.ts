// One backend's training speed (images/s) for each network and size, printed as JSON lines.
// Run by train-speed.ts in a child process per backend (a process keeps one backend for life).
//   MASSFLOW_BACKEND=wasm node --import tsx bench/ml/tfjs-speed.ts 64,128 [minSeconds]
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from '../../src/ml/adam.js';
import { loadBackend } from '../../src/ml/backend.js';
import { buildNet, NETS } from './nets.js';

const sizes = (process.argv[2] ?? '64,128').split(',').map(Number);
const minSeconds = Number(process.argv[3] ?? 8);
const BATCH = 32;

const b = await loadBackend();
for (const net of NETS) {
  for (const size of sizes) {
    const n = buildNet(net, size);
    const x = tf.randomNormal([BATCH, size, size, n.channels], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 5), 'int32'), 5);
    const opt = new FlatAdam(n.params.list(), 1e-3);
    const step = async () => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, n.logits(x)) as tf.Scalar);
      await loss.data();
      loss.dispose();
    };
    // Warm-up: kernel setup, first allocations, oneDNN primitive caches.
    await step();
    await step();
    let steps = 0;
    const t0 = performance.now();
    while (steps < 3 || performance.now() - t0 < minSeconds * 1000) {
      await step();
      steps++;
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ engine: b.name, version: b.version, net, size, batch: BATCH, steps, imagesPerSecond: (steps * BATCH) / seconds }));
    opt.dispose();
    tf.dispose([x, y]);
    n.params.dispose();
  }
}
