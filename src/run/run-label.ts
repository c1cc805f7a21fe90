// What a run is called in the MLflow runs table, and the Markdown on its page. The table cuts long
// names, so a name leads with what distinguishes the run from its neighbours (profiles, overrides,
// a trial's point); the run id, which says nothing to a reader, stays in the `massflow.run_id` tag.

/** `paper +wide fit.lr=1e-3`: the pipeline, then each profile, then each -p override as given. */
export function pipelineRunName(pipeline: string, profiles: readonly string[] = [], overrides: readonly string[] = []): string {
  return [pipeline, ...profiles.map((p) => `+${p}`), ...overrides].join(' ');
}

/** `t003 fit.lr=0.0003 fit.batch=32`: the trial's name (its ablation, if any), then its point. */
export function trialRunName(trial: string, point: Readonly<Record<string, unknown>>): string {
  return [trial, ...Object.entries(point).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)].join(' ');
}

export interface RunNote {
  readonly description?: string | undefined;
  /** The command line, as typed after `massflow`. */
  readonly argv: readonly string[];
  readonly profiles: readonly string[];
  readonly overrides: readonly string[];
  /** The headline metrics, as logged on the run. */
  readonly headline: readonly (readonly [string, number])[];
}

/** Longest pipeline description kept in a note: MLflow tags hold 5000 characters. */
const MAX_DESCRIPTION = 2000;

/** The run page's description (`mlflow.note.content`), in Markdown. */
export function runNoteMarkdown(n: RunNote): string {
  const lines: string[] = [];
  const description = n.description?.trim();
  if (description) lines.push(description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION)}…` : description, '');
  lines.push('```', ['massflow', ...n.argv].map(shellWord).join(' '), '```', '');
  lines.push(`Profiles: ${n.profiles.length ? n.profiles.map((p) => `\`${p}\``).join(', ') : 'none'}. Overrides: ${n.overrides.length ? n.overrides.map((o) => `\`${o}\``).join(', ') : 'none'}.`);
  if (n.headline.length) {
    lines.push('', '| metric | value |', '|---|---|', ...n.headline.map(([k, v]) => `| ${k} | ${formatValue(v)} |`));
  }
  return lines.join('\n');
}

const shellWord = (w: string): string => (/^[A-Za-z0-9_./:=@+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
const formatValue = (v: number): string => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());
