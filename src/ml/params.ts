// Named trainable tensors of one network, with seeded initialisation and a plain on-disk format
// (model.json + weights.bin, little-endian float32), independent of the backend they were trained on.
//
// The networks are written as functions of these tensors rather than tf.layers models: integrated
// gradients and Grad-CAM need gradients with respect to the input and to an inner activation, and a
// functional forward pass gives both without rebuilding models.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng.js';
import { err, ok, type Result } from '../core/result.js';

export const WEIGHTS_FORMAT = 'massflow.weights/1';

interface TensorEntry { name: string; shape: number[]; offset: number; trainable?: boolean }

export interface SavedModel<C> {
  format: typeof WEIGHTS_FORMAT;
  kind: string;
  config: C;
  tensors: TensorEntry[];
}

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  /** He-normal weights (std sqrt(2 / fan_in)) times `gain`; `gain` 0 gives zeros. */
  he(name: string, shape: number[], fanIn: number, rng: Rng, gain = 1): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const std = gain * Math.sqrt(2 / fanIn);
    if (std !== 0) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    return this.add(name, tf.tensor(data, shape));
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, tf.fill(shape, value));
  }

  /** A fixed (not trained) tensor that belongs to the model, e.g. input standardisation. */
  fixed(name: string, data: Float32Array, shape: number[]): tf.Variable {
    return this.add(name, tf.tensor(data, shape), false);
  }

  /** Variables are left unnamed in tfjs: names there are global, and explain loads five fold models. */
  private add(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(init, trainable);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** The trainable variables, for the optimizer. */
  list(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  get size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies of the current values (for keeping the best epoch's weights). */
  snapshot(): Map<string, tf.Tensor> {
    return new Map([...this.vars].map(([k, v]) => [k, tf.clone(v)]));
  }

  restore(snap: Map<string, tf.Tensor>): void {
    for (const [k, t] of snap) this.get(k).assign(t);
  }

  /** An independent copy (same names, values and trainability): a start for fine-tuning. */
  clone(): ParamStore {
    const c = new ParamStore();
    for (const [k, v] of this.vars) c.add(k, tf.clone(v), v.trainable);
    return c;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }

  async save<C>(dir: string, kind: string, config: C): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const tensors: TensorEntry[] = [];
    const chunks: Float32Array[] = [];
    let offset = 0;
    for (const [name, v] of this.vars) {
      const data = (await v.data()) as Float32Array;
      tensors.push({ name, shape: v.shape, offset, ...(v.trainable ? {} : { trainable: false }) });
      chunks.push(data);
      offset += data.length;
    }
    const all = new Float32Array(offset);
    let o = 0;
    for (const c of chunks) { all.set(c, o); o += c.length; }
    const manifest: SavedModel<C> = { format: WEIGHTS_FORMAT, kind, config, tensors };
    const files = [join(dir, 'model.json'), join(dir, 'weights.bin')];
    await writeFile(files[0]!, JSON.stringify(manifest, null, 2) + '\n');
    await writeFile(files[1]!, new Uint8Array(all.buffer));
    return files;
  }

  /** Loads a saved model of the given kind; the config is returned for the caller to validate. */
  static async load<C>(dir: string, kind: string): Promise<Result<{ store: ParamStore; config: C }>> {
    let manifest: SavedModel<C>;
    let bytes: Buffer;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as SavedModel<C>;
      bytes = await readFile(join(dir, 'weights.bin'));
    } catch (e) {
      return err(`cannot read a saved model in ${dir}: ${(e as Error).message}`);
    }
    if (manifest.format !== WEIGHTS_FORMAT) return err(`${dir}/model.json is not ${WEIGHTS_FORMAT}`);
    if (manifest.kind !== kind) return err(`${dir} holds a ${manifest.kind}, expected a ${kind}`);
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const store = new ParamStore();
    for (const t of manifest.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (t.offset + n > all.length) {
        store.dispose();
        return err(`${dir}/weights.bin is shorter than model.json says (tensor ${t.name})`);
      }
      store.add(t.name, tf.tensor(all.subarray(t.offset, t.offset + n), t.shape), t.trainable !== false);
    }
    return ok({ store, config: manifest.config });
  }
}
