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
  const changed = names.filter((n) => a.cases.get(n) !== b.cases.get(n)).map((n) => `${n} ${a.cases.get(n) ?? '-'}→${b.cases.get(n) ?? '-'}`);
  return `${a.status} → ${b.status}${changed.length > 0 ? ` (${changed.join(', ')})` : ''}`;
}
