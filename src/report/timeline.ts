// A run's timeline as a picture: a row per executor slot, a bar per stage from its start to its
// end, coloured by outcome; a cached stage (fresh or restored) is drawn hatched, or as a diamond
// where it took no time. The top-level MLflow run carries it as timeline.svg: vector text costs
// nothing to write, where rasterising it (WebAssembly resvg, fonts) cost about a second of CPU at
// the end of every run; `massflow trace --png` still rasterises on request.
import type { OutcomeKind } from '../core/run-events.js';
import { FONT_FAMILY } from '../ml/font.js';
import { fmtBytes, fmtDuration, table } from './format.js';

/** A run's stages placed in time (built from the run record by record/trace.ts). */
export interface TraceSlice {
  readonly stage: string;
  readonly outcome: OutcomeKind | 'pending' | 'running';
  /** ms after the run started. */
  readonly startMs: number;
  readonly durationMs: number;
  /** 0-based executor slot. */
  readonly slot: number;
  /** Fresh or restored: the result came from the cache (or remote), the stage did not run. */
  readonly cached: boolean;
  readonly cpuMs?: number | undefined;
  readonly peakRssBytes?: number | undefined;
  /** The run that computed a cached result. */
  readonly from?: string | undefined;
}

export interface RunTrace {
  readonly runId: string;
  readonly pipeline: string;
  readonly durationMs: number;
  readonly slots: number;
  readonly slices: readonly TraceSlice[];
}

const WIDTH = 960;
const LEFT = 70;
const RIGHT = 20;
const TOP = 44;
const ROW = 30;
const BAR = 20;

const COLOURS: Record<TraceSlice['outcome'], string> = {
  ran: '#3b6fb6', restored: '#7aa37a', fresh: '#9e9e9e', failed: '#c0392b', skipped: '#dddddd', cancelled: '#e0a030', pruned: '#b08cd0', pending: '#dddddd', running: '#3b6fb6',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const placement = (t: RunTrace) => `${plural(t.slices.length, 'stage')} on ${plural(t.slots, 'slot')}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Tick spacing giving at most ~10 ticks: 1, 2 or 5 times a power of ten, in ms. */
function tickStep(totalMs: number): number {
  const raw = Math.max(totalMs, 1) / 10;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

export function timelineSvg(t: RunTrace): string {
  const rows = Math.max(t.slots, 1);
  const height = TOP + rows * ROW + 40;
  const span = Math.max(t.durationMs, 1);
  const x = (ms: number) => LEFT + (ms / span) * (WIDTH - LEFT - RIGHT);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="${FONT_FAMILY}, Verdana, sans-serif" font-size="11">`,
    '<defs><pattern id="cached" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#9e9e9e"/></pattern></defs>',
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(`${t.pipeline} ${t.runId}`)}</text>`,
    `<text x="${LEFT}" y="36" fill="#555">${esc(`${fmtDuration(t.durationMs)}, ${placement(t)}; hatched or diamond: from the cache`)}</text>`,
  ];
  const step = tickStep(span);
  for (let ms = 0; ms <= span; ms += step) {
    out.push(`<line x1="${x(ms)}" y1="${TOP}" x2="${x(ms)}" y2="${TOP + rows * ROW}" stroke="#eeeeee"/>`);
    out.push(`<text x="${x(ms)}" y="${TOP + rows * ROW + 16}" text-anchor="middle" fill="#555">${esc(fmtDuration(ms))}</text>`);
  }
  for (let r = 0; r < rows; r++) out.push(`<text x="${LEFT - 8}" y="${TOP + r * ROW + ROW / 2 + 4}" text-anchor="end">slot ${r + 1}</text>`);
  for (const s of t.slices) {
    const y = TOP + s.slot * ROW + (ROW - BAR) / 2;
    const x0 = x(s.startMs);
    const w = x(s.startMs + s.durationMs) - x0;
    const title = `<title>${esc(`${s.stage}: ${s.outcome}, ${fmtDuration(s.durationMs)}`)}</title>`;
    if (w < 4) {
      // No visible length: a diamond at its moment.
      const cy = y + BAR / 2;
      out.push(`<path d="M${x0} ${cy - 7} L${x0 + 7} ${cy} L${x0} ${cy + 7} L${x0 - 7} ${cy} Z" fill="${s.cached ? '#ffffff' : COLOURS[s.outcome]}" stroke="${COLOURS[s.outcome]}" stroke-width="2">${title}</path>`);
      continue;
    }
    out.push(`<rect x="${x0}" y="${y}" width="${w}" height="${BAR}" fill="${s.cached ? 'url(#cached)' : COLOURS[s.outcome]}" stroke="${COLOURS[s.outcome]}">${title}</rect>`);
    // The label goes inside when it fits (about 6.5 px a character), else it is left out: the hover title has it.
    if (w > s.stage.length * 6.5 + 8) out.push(`<text x="${x0 + 4}" y="${y + BAR / 2 + 4}" fill="${s.cached ? '#222' : '#fff'}">${esc(s.stage)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

export async function timelinePng(t: RunTrace): Promise<Uint8Array> {
  const { svgToPng } = await import('../ml/svg-png.js');
  return svgToPng(timelineSvg(t), 1.5);
}

/** The timeline as a table: what `massflow trace` prints. */
export function traceTable(t: RunTrace): string[] {
  const rows = t.slices.map((s) => [
    s.stage, `${s.slot + 1}`, fmtDuration(s.startMs), fmtDuration(s.durationMs),
    s.cpuMs !== undefined ? fmtDuration(s.cpuMs) : '-',
    s.peakRssBytes ? fmtBytes(Math.round(s.peakRssBytes / 2 ** 20) * 2 ** 20) : '-',
    s.cached ? `${s.outcome}${s.from !== undefined ? ` (from ${s.from})` : ''}` : s.outcome,
  ]);
  return [
    `${t.pipeline} ${t.runId}: ${fmtDuration(t.durationMs)}, ${placement(t)}`,
    ...table([['stage', 'slot', 'start', 'wall', 'cpu', 'peak rss', 'outcome'], ...rows]),
  ];
}
