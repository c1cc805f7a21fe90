// What `massflow init` writes into a project of one's own: a starter pipeline, one TS stage, and the
// .gitignore lines for massflow's state. Kept small: a researcher edits them into their own.

/** The pipeline, with the `$schema` comment editors read (a path relative to the file). */
export function starterPipeline(name: string, schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# A massflow pipeline. \`massflow run\` runs it; \`massflow status\` says what is cached or stale and why.
name: ${name}
params:
  greet: { who: world, times: 3 }
stages:
  hello:
    run: stages/hello.ts      # a TypeScript stage; a program works too: cmd: [python, prep.py, out/x]
    params: [greet]           # only these params enter the stage's fingerprint
    outs: [out/hello.txt]     # cached by content; a rerun with nothing changed skips the stage
`;
}

export const STARTER_STAGE = `// A TypeScript stage: massflow runs it in its own process with the params it declares.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineStage, Type } from 'massflow/stage';

export default defineStage({
  params: Type.Object({ greet: Type.Object({ who: Type.String(), times: Type.Integer({ minimum: 1 }) }) }),
  async run(ctx) {
    const { who, times } = ctx.params.greet;
    const lines = Array.from({ length: times }, (_, i) => \`hello, \${who} (\${i + 1})\`);
    mkdirSync(dirname(ctx.outDir), { recursive: true });
    writeFileSync(ctx.outDir, lines.join('\\n') + '\\n');
    ctx.metric('lines', lines.length);
    ctx.log(\`wrote \${lines.length} lines\`);
  },
});
`;

/** massflow's state in a project: the cache, run records, the local MLflow server's store. */
export const GITIGNORE_LINES = ['.massflow/', 'runs/', '.mlflow/'] as const;
