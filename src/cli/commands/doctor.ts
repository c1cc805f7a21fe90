// `massflow doctor`: renders ../../setup/doctor.ts's checks. Always exit 0: nothing is required.
import { gatherFacts, assess, type CheckStatus } from '../../setup/doctor.js';
import { layoutFrom, type CommonOptions } from '../common.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export async function doctorCommand(opts: CommonOptions, term: Terminal): Promise<ExitCode> {
  const checks = assess(await gatherFacts(layoutFrom(opts).root));
  const mark = (s: CheckStatus): string => {
    switch (s) {
      case 'ok': return term.style.green('ok     ');
      case 'missing': return term.style.yellow('missing');
      case 'info': return '       ';
    }
  };
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    term.out.write(`${mark(c.status)} ${c.name.padEnd(width)}  ${c.detail}\n`);
    const pad = ' '.repeat(8 + width + 2);
    if (c.cost) term.out.write(`${pad}without it: ${c.cost}\n`);
    if (c.fix) term.out.write(`${pad}add it: ${c.fix}\n`);
  }
  const missing = checks.filter((c) => c.status === 'missing' && c.fix).length;
  term.out.write(missing ? `\n${missing} optional piece${missing === 1 ? '' : 's'} missing; everything else works without them.\n` : '\neverything is there.\n');
  return EXIT.ok;
}
