// Human-readable lines describing an assembled series, printed before applying it.
import { netDiffStat } from './diffstat.ts';
import { messageBody } from '../mail/mbox.ts';
import type { DiffStat } from './apply-types.ts';
import type { Series } from '../mail/mail-types.ts';

const MINUS = '\u2212';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatDiffStat(d: DiffStat): string {
  return `${plural(d.files.length, 'file')}, +${d.insertions}/${MINUS}${d.deletions}`;
}

/** Net diffstat of the patches of `series` (lines added and removed again within it cancel). */
export function seriesDiffStat(series: Series): DiffStat {
  return netDiffStat(series.patches.map((p) => messageBody(p.message.raw)));
}

export function formatSeriesSummary(series: Series): string[] {
  const n = series.patches.length;
  const count = n === series.total ? `${n} patch${n === 1 ? '' : 'es'}` : `${n} of ${series.total} patches`;
  const lines = [
    `v${series.revision}: ${series.title} (${count})`,
    `author: ${series.author}`,
    `date: ${series.date}`,
  ];
  if (series.cover) lines.push(`cover: <${series.cover.messageId}>`);
  const width = String(series.total).length;
  const heads = series.patches.map((p) => `${String(p.index).padStart(width)}/${p.total} ${p.title}`);
  const col = Math.min(Math.max(...heads.map((h) => h.length)), 78);
  series.patches.forEach((p, i) => {
    lines.push(`  ${heads[i]!.padEnd(col)}  ${formatDiffStat(p.diffstat)}`);
  });
  // As `git diff base..tip --stat` shows it: what the series does as a whole.
  const total = seriesDiffStat(series);
  lines.push(`${total.files.length} file${total.files.length === 1 ? '' : 's'} changed, +${total.insertions}/${MINUS}${total.deletions}`);
  if (series.baseCommit !== undefined) lines.push(`base-commit: ${series.baseCommit}`);
  return lines;
}
