// Training kernels the wasm backend lacks, built from its own XNNPACK Conv2D.
//
// tfjs-backend-wasm 4.22 cannot train a CNN: Conv2DBackpropFilter is not registered, and its
// Conv2DBackpropInput is a scalar loop. Both gradients are convolutions themselves:
//   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
//     = conv(x^T [Ci,H,W,N], dy^T [OH,OW,N,Co]) with dilation s and stride 1, transposed back;
//   dx (stride 1) = conv(dy, W flipped in space with in/out channels swapped) with padding K-1-p.
// Strided or unusual input gradients fall back to the shipped kernel.
// Checked against the pure-JS cpu backend in test/ml/wasm-kernels.test.ts.
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** Part of the wasm backend's version string: bump when these kernels change numerically. */
export { WASM_KERNELS_VERSION } from './backend-describe.js';

interface WasmBackendLike {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Runs one of the wasm backend's own kernels on backend-level tensors. */
function call(kernel: string, backend: unknown, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  const k = tf.getKernel(kernel, 'wasm');
  if (!k) throw new Error(`wasm kernel ${kernel} is not registered`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs }) as TensorInfo;
}

/** The forward convolution's geometry, from a gradient kernel's attrs (NHWC only). */
function conv2dInfo(kernel: string, attrs: NamedAttrMap, xShape: number[], filterShape: number[]) {
  requireChannelsLast(attrs.dataFormat, kernel);
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number, 1, attrs.pad as Pad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

function requireChannelsLast(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports only NHWC, got ${String(dataFormat)}`);
  }
}

function conv2dBackpropFilter(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs ?? {};
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const info = conv2dInfo('Conv2DBackpropFilter', attrs, x.shape, attrs.filterShape as number[]);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w } = info;
  const { top: pt, left: pl } = info.padInfo;
  const [oh, ow] = [info.outHeight, info.outWidth];
  const b = backend as WasmBackendLike;
  const temps: TensorInfo[] = [];
  try {
    // [N,H,W,Ci] -> [Ci,H,W,N]: the batch becomes the channel that is summed over.
    let xt = call('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
    temps.push(xt);
    // Bottom/right padding that makes the output exactly KH x KW; rows the forward pass never read
    // (valid padding with a remainder) would make it negative, so they are cropped instead.
    let pb = (oh - 1) * sh + kh - pt - h;
    let pr = (ow - 1) * sw + kw - pl - w;
    if (pb < 0 || pr < 0) {
      const hh = h + Math.min(pb, 0);
      const ww = w + Math.min(pr, 0);
      xt = call('Slice', backend, { x: xt }, { begin: [0, 0, 0, 0], size: [xt.shape[0] as number, hh, ww, xt.shape[3] as number] });
      temps.push(xt);
      pb = Math.max(pb, 0);
      pr = Math.max(pr, 0);
    }
    // [N,OH,OW,Co] -> [OH,OW,N,Co]: the output gradient is the (dilated) filter.
    const dyt = call('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
    temps.push(dyt);
    const g = call('Conv2D', backend, { x: xt, filter: dyt }, {
      strides: [1, 1], dilations: [sh, sw], pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]],
      dataFormat: 'NHWC',
    } as unknown as NamedAttrMap);
    temps.push(g);
    // [Ci,KH,KW,Co] -> [KH,KW,Ci,Co]
    return call('Transpose', backend, { x: g }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
}

function makeConv2dBackpropInput(shipped: KernelConfig['kernelFunc'] | undefined) {
  return (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo => {
    const { inputs, backend } = args;
    const attrs = args.attrs ?? {};
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const info = conv2dInfo('Conv2DBackpropInput', attrs, attrs.inputShape as number[], filter.shape);
    const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
    const pt = kh - 1 - info.padInfo.top;
    const pl = kw - 1 - info.padInfo.left;
    const pb = h + kh - 1 - oh - pt;
    const pr = w + kw - 1 - ow - pl;
    const fast = info.strideHeight === 1 && info.strideWidth === 1 && Math.min(pt, pl, pb, pr) >= 0;
    if (!fast) {
      if (!shipped) throw new Error('Conv2DBackpropInput: strided case needs the shipped wasm kernel');
      return shipped(args as never) as TensorInfo;
    }
    const b = backend as WasmBackendLike;
    const temps: TensorInfo[] = [];
    try {
      const flipped = call('Reverse', backend, { x: filter }, { dims: [0, 1] });
      temps.push(flipped);
      // [KH,KW,Ci,Co] -> [KH,KW,Co,Ci]: maps output channels back to input channels.
      const wt = call('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
      temps.push(wt);
      return call('Conv2D', backend, { x: dy, filter: wt }, {
        strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]],
        dataFormat: 'NHWC',
      } as unknown as NamedAttrMap);
    } finally {
      for (const t of temps) b.disposeData(t.dataId);
    }
  };
}

let registered = false;

/**
 * Registers both kernels for the wasm backend. Call after importing @tensorflow/tfjs-backend-wasm
 * and before the backend is first used, so the replaced kernel's own setup still runs.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const shipped = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter as unknown as KernelConfig['kernelFunc'],
    });
  }
  if (shipped) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    setupFunc: shipped?.setupFunc,
    kernelFunc: makeConv2dBackpropInput(shipped?.kernelFunc) as unknown as KernelConfig['kernelFunc'],
  });
  registered = true;
}
