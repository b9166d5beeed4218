// How each patch went in: method, moved/fuzzed hunks and where they landed,
// and whether the patch changed on the way in (patch-id as posted vs applied).
import { functionKey } from '../apply/funcname.ts';
import type { PatchApplyReport } from '../apply/apply-types.ts';

export function formatHunks(r: PatchApplyReport): string[] {
  return r.hunks.map((h) => {
    const moved = [h.fuzz ? `fuzz ${h.fuzz}` : '', h.offset ? `offset ${h.offset > 0 ? '+' : ''}${h.offset}` : ''].filter(Boolean).join(', ');
    const where = h.landedFunction ? ` in ${functionKey(h.landedFunction) || h.landedFunction}` : '';
    const warn = h.misplaced ? ` (MISPLACED: header names ${functionKey(h.headerFunction) || h.headerFunction})` : '';
    return `${h.file} hunk #${h.hunk}: ${moved || 'exact'}${where}${warn}`;
  });
}

export function formatApplyReport(reports: readonly PatchApplyReport[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    const state = r.method === 'am' ? (r.hunks.length ? 'clean (git am, offsets)' : 'clean (git am)') : r.method === 'am-3way' ? '3-way (git am -3)' : `fuzzed (${r.hunks.filter((h) => h.fuzz > 0).map((h) => functionKey(h.landedFunction) || h.file).filter((x, i, a) => a.indexOf(x) === i).join(', ') || 'patch'})`;
    const changed = r.patchIdPosted !== r.patchIdApplied ? ' · changed on the way in' : '';
    lines.push(`${r.index}/${r.total} ${r.title}: ${state}${changed}`);
    for (const h of formatHunks(r)) if (r.method !== 'am' || h.includes('MISPLACED')) lines.push(`    ${h}`);
  }
  return lines;
}
