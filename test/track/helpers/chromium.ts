// Headless Chromium for the UI check: the rendered DOM of an MLflow UI page after its scripts ran.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** The browser binary: MASSFLOW_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH. */
export function findChromium(): string | undefined {
  const candidates = [process.env.MASSFLOW_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
}

export async function renderedDom(chromium: string, url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'mf-chromium-'));
  const r = await execa(chromium, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
    // Wide enough that the runs table's grid renders its metric columns (it draws only visible ones).
    '--window-size=2400,1200',
    // Virtual time lets the single-page app fetch the run and render before the DOM is dumped.
    '--virtual-time-budget=30000', '--dump-dom', url,
  ], { timeout: 120_000 });
  return r.stdout;
}
