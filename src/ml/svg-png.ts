// SVG to PNG without a browser or a native canvas: resvg compiled to WebAssembly, with DejaVu Sans
// loaded from its npm package so text renders the same on every machine (no system fonts needed).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { FONT_FAMILY } from './font.js';

const require = createRequire(import.meta.url);

let ready: Promise<Uint8Array[]> | undefined;

function init(): Promise<Uint8Array[]> {
  ready ??= (async () => {
    await initWasm(await readFile(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
    return [
      new Uint8Array(await readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'))),
      new Uint8Array(await readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'))),
    ];
  })();
  return ready;
}

/** Renders an SVG document to PNG bytes at `scale` x its own size. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const fonts = await init();
  const r = new Resvg(svg, {
    font: { fontBuffers: fonts, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY, loadSystemFonts: false },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  const png = r.render().asPng();
  r.free();
  return png;
}
