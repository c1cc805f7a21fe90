// TensorFlow ops that tfjs-node does not expose, registered as tfjs kernels on its 'tensorflow'
// backend so ./ops.ts can reach them through the engine (tracked, disposed and profiled like any op).
//
// Why: tfjs differentiates relu as dy * step(x), and tfjs-node builds `Step` from four TensorFlow ops
// (IsNan, Greater, Fill, Select) over the whole activation tensor. Profiled on network 1 at 64 px
// that was a third of a training step. TensorFlow's own ReluGrad is one pass; BiasAdd/BiasAddGrad
// likewise replace a broadcast Add and a three-axis Sum.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export const RELU_GRAD = 'MassflowReluGrad';
export const BIAS_ADD = 'MassflowBiasAdd';
export const BIAS_ADD_GRAD = 'MassflowBiasAddGrad';

/** The part of tfjs-node's NodeJSKernelBackend these kernels use. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeSingleOutput(op: string, attrs: unknown[], inputs: TensorInfo[]): TensorInfo;
}

function nativeKernel(kernelName: string, op: string, inputNames: string[], format: boolean): KernelConfig {
  return {
    kernelName,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }: { inputs: NamedTensorInfoMap; backend: unknown }) => {
      const b = backend as NativeBackend;
      const ins = inputNames.map((n) => inputs[n] as TensorInfo);
      for (const t of ins) {
        if (t.dtype !== 'float32') throw new Error(`${kernelName}: float32 inputs only, got ${t.dtype}`);
      }
      const attrs: unknown[] = [{ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }];
      if (format) attrs.push({ name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' });
      return b.executeSingleOutput(op, attrs, ins);
    },
  };
}

let registered = false;

/** Call once the native backend is registered; idempotent. */
export function registerNativeKernels(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel(nativeKernel(RELU_GRAD, 'ReluGrad', ['dy', 'y'], false));
  tf.registerKernel(nativeKernel(BIAS_ADD, 'BiasAdd', ['x', 'bias'], true));
  tf.registerKernel(nativeKernel(BIAS_ADD_GRAD, 'BiasAddGrad', ['dy'], true));
}
