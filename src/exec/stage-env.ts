// What a stage process inherits from the runner. Stages never talk to the tracking server, so the
// tracking credentials stay with the runner: a stage that prints its environment (or a library that
// dumps it on error) must not write them into a log that is stored and uploaded.

/**
 * The tracking variables that are credentials or lead to them (the official client's names).
 * `MLFLOW_TRACKING_URI` is kept, without the userinfo a `user:pass@` URI carries.
 */
const TRACKING_SECRET = /^MLFLOW_TRACKING_(?!URI$)[A-Z0-9_]+$/;

/** `http://user:pass@host/x` -> `http://host/x`; anything that is not a URL is left as it is. */
export function withoutUserinfo(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.username === '' && u.password === '') return uri;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return uri;
  }
}

/** The runner's environment as a stage may see it: every MLFLOW_TRACKING_* secret removed. */
export function inheritedEnv(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || TRACKING_SECRET.test(k)) continue;
    out[k] = k === 'MLFLOW_TRACKING_URI' ? withoutUserinfo(v) : v;
  }
  return out;
}
