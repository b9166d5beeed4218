// Pure helpers for benchmark figures: medians and ratios, never assertions.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Measurement {
  name: string;
  samplesMs: number[];
  /** Why there are no samples (e.g. KVM unusable here). */
  unavailable?: string;
}

export function ratio(a: Measurement | undefined, b: Measurement | undefined): string {
  if (!a || !b || a.samplesMs.length === 0 || b.samplesMs.length === 0) return 'n/a';
  return `${(median(a.samplesMs) / median(b.samplesMs)).toFixed(1)}x`;
}

export function formatBenchTable(ms: readonly Measurement[], fmt: (ms: number) => string): string[] {
  const w = Math.max(...ms.map((m) => m.name.length));
  const lines = [`${'measurement'.padEnd(w)}  runs  median    min       max`];
  for (const m of ms) {
    if (m.samplesMs.length === 0) {
      lines.push(`${m.name.padEnd(w)}  -     ${m.unavailable ?? 'not measured'}`);
      continue;
    }
    const cells = [median(m.samplesMs), Math.min(...m.samplesMs), Math.max(...m.samplesMs)].map((x) => fmt(x).padEnd(9));
    lines.push(`${m.name.padEnd(w)}  ${String(m.samplesMs.length).padEnd(4)}  ${cells.join(' ')}`.trimEnd());
  }
  return lines;
}
