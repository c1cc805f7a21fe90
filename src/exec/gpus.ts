// Which GPU devices massflow hands out, each to one stage at a time. `--gpus N` (or MASSFLOW_GPUS)
// says how many; the devices are then the first N the runner may use (its own CUDA_VISIBLE_DEVICES,
// when a batch system or the user set one) or 0..N-1. Without either, the GPUs `nvidia-smi -L`
// lists. With none of these massflow does not manage GPUs and leaves CUDA_VISIBLE_DEVICES alone.
import { spawnSync } from 'node:child_process';

/** The devices to hand out, or undefined when massflow does not manage GPUs. */
export function gpuDevices(count: number | undefined, env: Readonly<Record<string, string | undefined>> = process.env, listGpus: () => string | undefined = nvidiaSmiList): string[] | undefined {
  const visible = env['CUDA_VISIBLE_DEVICES']?.split(',').map((d) => d.trim()).filter(Boolean);
  const fromEnv = Number(env['MASSFLOW_GPUS']);
  const n = count ?? (env['MASSFLOW_GPUS'] !== undefined && Number.isInteger(fromEnv) && fromEnv >= 0 ? fromEnv : undefined);
  if (n !== undefined) {
    return visible && visible.length >= n ? visible.slice(0, n) : Array.from({ length: n }, (_, i) => String(i));
  }
  const listed = listGpus();
  if (listed === undefined) return undefined;
  const found = [...listed.matchAll(/^GPU (\d+):/gm)].map((m) => m[1]!);
  if (!found.length) return undefined;
  // Inside an allocation the visible devices are the ones to share out, in their own names.
  return visible ?? found;
}

function nvidiaSmiList(): string | undefined {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : undefined;
}
