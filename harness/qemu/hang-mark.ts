// The boot stage's own line in console.log when it kills QEMU. Written by
// the runner, read by the console stage: the saved log then carries
// everything the verdict depends on, so `kseries parse console.log` gives
// the live run's answer (TIMEOUT, exit 124) instead of "truncated".

export type HangKind = 'silence' | 'overall';

const MARK = /^kseries-runner: killed QEMU \((silence|overall)\): (.+)$/;

/** The line (without a newline) the runner appends after killing QEMU. */
export function hangMarkLine(kind: HangKind, limitMs: number): string {
  const s = limitMs % 1000 === 0 ? String(limitMs / 1000) : (limitMs / 1000).toFixed(1);
  const why = kind === 'silence' ? `no console output for ${s} s` : `overall boot timeout of ${s} s expired`;
  return `kseries-runner: killed QEMU (${kind}): ${why}`;
}

/** A cleaned console line that is the runner's mark → its kind and text. */
export function readHangMark(text: string): { kind: HangKind; why: string } | undefined {
  const m = MARK.exec(text);
  return m ? { kind: m[1] as HangKind, why: m[2]! } : undefined;
}
