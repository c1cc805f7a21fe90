// The richness baseline's k-fold MAE on a labelled cluster catalogue (build-catalog's labelled.csv,
// docs/formats.md), with the folds and fit cross-validate uses; printed next to the paper's figure.
//   node --import tsx bench/ml/richness-baseline.ts path/to/labelled.csv [folds] [seed]
import { readFileSync } from 'node:fs';
import { richnessBaseline } from '../../src/ml/cv-summary.js';
import { assignFolds } from '../../src/ml/folds.js';
import { unwrap } from '../../src/core/result.js';
import { mean, std } from '../../src/ml/stats.js';

const PAPER_RICHNESS_MAE = 0.192;
const [path, foldsArg, seedArg] = process.argv.slice(2);
if (!path) throw new Error('usage: richness-baseline.ts labelled.csv [folds] [seed]');
const k = Number(foldsArg ?? 5);
const seed = Number(seedArg ?? 1);

const lines = readFileSync(path, 'utf8').trim().split('\n');
const header = lines[0]!.split(',');
const col = (name: string) => {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`${path} has no ${name} column`);
  return i;
};
const [iId, iM, iL] = [col('id'), col('logM500'), col('richness')];
const clusters = lines.slice(1).map((l) => l.split(',')).flatMap((f) => {
  const m = Number(f[iM]);
  const r = f[iL] === '' ? null : Number(f[iL]);
  return Number.isFinite(m) && f[iM] !== '' ? [{ id: f[iId]!, logM500: m, richness: r }] : [];
});
const assignment = unwrap(assignFolds(clusters.map((c) => c.logM500), k, seed), 'folds');
const scores = Array.from({ length: k }, (_, f) => richnessBaseline(clusters, assignment, f));
console.log(`${clusters.length} labelled clusters, ${clusters.filter((c) => !((c.richness ?? 0) > 0)).length} without richness; ${k} folds stratified by mass, seed ${seed}`);
scores.forEach((s, f) => console.log(`fold ${f}: MAE ${s ? s.mae.toFixed(3) : '-'} dex on ${s?.n ?? 0} clusters; log M = ${s?.fit.a.toFixed(2)} + ${s?.fit.b.toFixed(3)} log lambda`));
const maes = scores.flatMap((s) => (s ? [s.mae] : []));
console.log(`mean ${mean(maes).toFixed(3)} +- ${std(maes).toFixed(3)} dex, best ${Math.min(...maes).toFixed(3)}; the paper's richness MAE: ${PAPER_RICHNESS_MAE} dex`);
