// `massflow init [DIR]` and `massflow init --example cluster-mass [DIR]`.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXAMPLES, conflicts, planExample, planStarter, writePlan, type ExampleName } from '../../setup/init.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export async function initCommand(dir: string | undefined, opts: { example?: string }, term: Terminal): Promise<ExitCode> {
  const project = resolve(dir ?? '.');
  let plan;
  if (opts.example !== undefined) {
    if (!(EXAMPLES as readonly string[]).includes(opts.example)) throw new UsageError(`no example '${opts.example}'; there is: ${EXAMPLES.join(', ')}`);
    // The example brings its own folders (stages/, pipelines/, data/ once it runs): never mixed into a project.
    const present = existsSync(project) ? readdirSync(project).filter((n) => n !== '.git') : [];
    if (present.length) throw new UsageError(`${project} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}); give a new folder: massflow init --example ${opts.example} DIR`);
    plan = planExample(project, opts.example as ExampleName);
  } else {
    plan = planStarter(project);
    const taken = conflicts(project, plan);
    if (taken.length) throw new UsageError(`${taken.join(' and ')} already exist${taken.length === 1 ? 's' : ''} in ${project}; nothing was written`);
  }
  mkdirSync(project, { recursive: true });
  writePlan(project, plan);
  for (const f of plan) term.out.write(`${f.append ? 'appended to' : 'wrote'} ${f.path}\n`);
  const cd = dir ? `cd ${dir} && ` : '';
  term.out.write(opts.example
    ? `\nnext: ${cd}massflow run pipelines/smoke.yaml   (seconds), or massflow run pipelines/paper.yaml (the paper pipeline on the simulated sky)\n`
    : `\nnext: ${cd}massflow run\n`);
  return EXIT.ok;
}
