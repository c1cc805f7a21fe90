#!/usr/bin/env node
// The massflow command. The compiled sources live in dist/ (`npm run build`; `npm pack` builds them
// through `prepack`, so an installed package has them and runs no install script).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // Only a bug in massflow gets here; user mistakes end in main() with a message.
    console.error('massflow: internal error:', err);
    process.exitCode = 70;
  },
);
