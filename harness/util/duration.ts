// One way to print a duration, for progress lines, summaries and reports.

/** "850ms", "1.2s", "3m12s", "1h04m09s". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  if (t < 100) return `${t}ms`;
  if (Math.round(t / 100) < 600) return `${(t / 1000).toFixed(1)}s`;
  const s = Math.round(t / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${sec}s` : `${m}m${sec}s`;
}
