// Saying what changed in a cell in a few words: a probe's fingerprint
// ("FAIL a=PASS b=FAIL", see model/results.ts) shrinks to its status and the
// cases that differ; any other value is shown as it is.

function parse(v: string): { status: string; cases: Map<string, string> } | undefined {
  const [status, ...rest] = v.split(' ');
  if (!status || !/^[A-Z]+$/.test(status)) return undefined;
  const cases = new Map<string, string>();
  for (const t of rest) {
    const m = /^([^=\s]+)=([A-Z]+)$/.exec(t);
    if (!m) return undefined;
    cases.set(m[1]!, m[2]!);
  }
  return { status, cases };
}

/** "PASS → FAIL (setup_default PASS→FAIL, setup_sqpoll PASS→FAIL)", or "from → to" when the values are not fingerprints. */
export function describeChange(from: string, to: string): string {
  const a = parse(from);
  const b = parse(to);
  if (!a || !b) return `${from} → ${to}`;
  const names = [...new Set([...a.cases.keys(), ...b.cases.keys()])];
  const moved = names.filter((n) => a.cases.get(n) !== b.cases.get(n));
  const ways = new Set(moved.map((n) => `${a.cases.get(n) ?? '-'}→${b.cases.get(n) ?? '-'}`));
  if (moved.length > 3 && moved.length === names.length && ways.size === 1) return `${a.status} → ${b.status} (all ${names.length} cases ${[...ways][0]})`;
  const changed = moved.map((n) => `${n} ${a.cases.get(n) ?? '-'}→${b.cases.get(n) ?? '-'}`);
  return `${a.status} → ${b.status}${changed.length > 0 ? ` (${changed.join(', ')})` : ''}`;
}
