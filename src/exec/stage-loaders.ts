// The Node flags every process that imports TS stage modules starts with: tsx (TypeScript), then
// massflow's resolve hooks (`massflow/stage` from any project). Paths are this installation's.
export function stageLoaderArgs(): string[] {
  return ['--import', import.meta.resolve('tsx'), '--import', new URL('../stage/resolve-register.js', import.meta.url).href];
}
