// One console log → one ConsoleResult: KTAP results, crash findings with
// probe attribution, the overall status, and the process exit code.

import { ExitCode, type ConsoleResult, type ExitCodeValue, type Finding, type ProbeResult, type Status } from '../model/results.ts';
import { CRASH_KINDS, classifyConsole, spanAt } from './classify.ts';
import { parseKtap, type KtapDocument } from './ktap.ts';
import { splitConsoleLines } from './lines.ts';

export interface ParseConsoleOptions {
  /** The QEMU runner killed the guest: the console went silent too long, or the overall boot timeout expired. */
  hang?: 'silence' | 'overall';
}

const HANG_TEXT: Record<NonNullable<ParseConsoleOptions['hang']>, string> = {
  silence: 'guest hung: no console output for too long, QEMU was killed',
  overall: 'guest hung: overall boot timeout expired, QEMU was killed',
};

function truncationText(doc: KtapDocument): string {
  if (doc.bailout !== undefined) return `KTAP producer bailed out: ${doc.bailout}`;
  const results = doc.spans.filter(s => s.end !== undefined).length;
  if (!doc.plan) return `KTAP output ended without a top-level plan after ${results} result(s)`;
  const planned = doc.plan.end - doc.plan.start + 1;
  return `KTAP output ended after ${results} of ${planned} planned result(s)`;
}

/**
 * Overall status, first match wins: a kernel crash finding → CRASHED; a hang
 * → TIMEOUT; no or truncated KTAP → CRASHED; a probe the init had to kill
 * → TIMEOUT; any probe FAIL → FAIL; otherwise PASS. (INFRA is never decided from a console.)
 */
export function statusFor(findings: readonly Finding[], probes: readonly ProbeResult[]): Status {
  if (findings.some(f => CRASH_KINDS.has(f.kind))) return 'CRASHED';
  if (findings.some(f => f.kind === 'hang')) return 'TIMEOUT';
  if (findings.some(f => f.kind === 'truncated')) return 'CRASHED';
  if (probes.some(p => p.status === 'TIMEOUT')) return 'TIMEOUT';
  if (probes.some(p => p.status === 'FAIL' || p.status === 'CRASHED')) return 'FAIL';
  return 'PASS';
}

/** Parse a whole console log (raw, as written by the QEMU runner). */
export function parseConsole(text: string, opts: ParseConsoleOptions = {}): ConsoleResult {
  const lines = splitConsoleLines(text);
  const doc = parseKtap(lines);
  const { findings, poweredOff } = classifyConsole(lines, { spans: doc.spans, tapLines: doc.tapLines });

  // Whatever was running when the console stopped gets the blame for
  // truncation and hangs.
  const open = doc.spans.find(s => s.end === undefined);
  const atEnd = (f: Finding): Finding => (open ? { ...f, probe: open.id } : f);
  if (!doc.found) {
    // The init bails out before printing its header when it cannot even
    // read its plan; quote that rather than just "nothing found".
    const bail = [...lines].reverse().find(l => /^Bail out!/i.test(l.text));
    const text = 'no KTAP/TAP header ("KTAP version 1" / "TAP version 13") on the console';
    findings.push(bail ? { kind: 'truncated', line: bail.no, text: `${text}; the guest printed "${bail.text}"` } : { kind: 'truncated', line: 0, text });
  } else if (!doc.complete) {
    findings.push(atEnd({ kind: 'truncated', line: doc.lastLine, text: truncationText(doc) }));
  }
  if (opts.hang) findings.push(atEnd({ kind: 'hang', line: 0, text: HANG_TEXT[opts.hang] }));

  for (const f of findings) {
    if (f.probe === undefined) continue;
    const span = f.line > 0 ? spanAt(doc.spans, f.line) : open;
    if (span) doc.probes[span.probeIndex]?.findings.push(f);
  }

  return {
    status: statusFor(findings, doc.probes),
    ktapFound: doc.found,
    complete: doc.complete,
    poweredOff,
    probes: doc.probes,
    findings,
  };
}

/**
 * Exit code for a parsed console, first match wins:
 *   4 (KERNEL_PROBLEM)  kernel crash finding: panic, oops, BUG, KASAN,
 *                       WARNING, triple fault / unexpected reset, reboot
 *   124 (TIMEOUT)       the guest hung and QEMU was killed
 *   4 (KERNEL_PROBLEM)  no KTAP, or KTAP truncated (the guest died quietly)
 *   124 (TIMEOUT)       a probe ran past its timeout and the init killed it
 *   1 (PROBE_FAILED)    a probe failed
 *   0 (OK)              everything passed or was skipped
 * USAGE (2) and INFRA (3) are decided before a console exists; an INFRA
 * result handed in here maps to 3 for completeness.
 */
export function exitCodeFor(result: ConsoleResult): ExitCodeValue {
  if (result.status === 'INFRA') return ExitCode.INFRA;
  const { findings } = result;
  if (findings.some(f => CRASH_KINDS.has(f.kind))) return ExitCode.KERNEL_PROBLEM;
  if (findings.some(f => f.kind === 'hang')) return ExitCode.TIMEOUT;
  if (!result.ktapFound || !result.complete || findings.some(f => f.kind === 'truncated')) return ExitCode.KERNEL_PROBLEM;
  if (result.probes.some(p => p.status === 'TIMEOUT')) return ExitCode.TIMEOUT;
  if (result.probes.some(p => p.status === 'FAIL' || p.status === 'CRASHED')) return ExitCode.PROBE_FAILED;
  return ExitCode.OK;
}
