// Pure helpers for benchmark figures: medians and ratios, never assertions.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One row of the bench table: kseries' samples, and the floor it is compared with when there is one. */
export interface Figure {
  name: string;
  samplesMs: number[];
  /** The same work done without kseries (plain make, or touch-and-make), sampled alternately with samplesMs. */
  floorMs?: number[];
  /** The target, as printed ("≤ 1.1x", "≤ 30s"). */
  target?: string;
  /** Why there are no samples, or what a sample's run reported (an exit code). */
  note?: string;
}

/** "1.06x": the median of the samples over the median of the floor; '' without both. */
export function ratio(f: Figure): string {
  if (f.samplesMs.length === 0 || !f.floorMs || f.floorMs.length === 0) return '';
  return `${(median(f.samplesMs) / median(f.floorMs)).toFixed(2)}x`;
}

export function formatBenchTable(figs: readonly Figure[], fmt: (ms: number) => string): string[] {
  const rows = [['figure', 'runs', 'kseries', 'floor', 'ratio', 'target', '']];
  for (const f of figs) {
    const med = (xs: readonly number[] | undefined) => (xs && xs.length > 0 ? fmt(median(xs)) : '');
    rows.push([
      f.name,
      f.samplesMs.length > 0 ? String(f.samplesMs.length) : '-',
      f.samplesMs.length > 0 ? med(f.samplesMs) : 'not measured',
      med(f.floorMs),
      ratio(f),
      f.target ?? '',
      f.note ?? '',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}
