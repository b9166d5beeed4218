// One console log → one ConsoleResult: KTAP results, crash findings with
// probe attribution, the overall status, and the process exit code. The log
// is the whole input: the runner records its own kill of QEMU in it, so a
// live run and a later `kseries parse` of its console.log agree.

import { ExitCode, type ConsoleResult, type ExitCodeValue, type Finding, type ProbeResult, type Status } from '../model/results.ts';
import { readHangMark } from '../qemu/hang-mark.ts';
import { classifyConsole, spanAt } from './classify.ts';
import { parseKtap, type KtapDocument } from './ktap.ts';
import { splitConsoleLines, type ConsoleLine } from './lines.ts';
import { verdictFor } from './verdict.ts';

function truncationText(doc: KtapDocument): string {
  if (doc.bailout !== undefined) return `KTAP producer bailed out: ${doc.bailout}`;
  const results = doc.spans.filter(s => s.end !== undefined).length;
  if (!doc.plan) return `KTAP output ended without a top-level plan after ${results} result(s)`;
  const planned = doc.plan.end - doc.plan.start + 1;
  return `KTAP output ended after ${results} of ${planned} planned result(s)`;
}

/** The runner's "killed QEMU" mark (the last one), as a 'hang' finding. */
function hangFinding(lines: readonly ConsoleLine[]): Finding | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const mark = readHangMark(lines[i]!.text);
    if (mark) return { kind: 'hang', line: lines[i]!.no, text: `guest hung: ${mark.why}; QEMU was killed` };
  }
  return undefined;
}

/** Overall status (see the ladder in verdict.ts). */
export function statusFor(findings: readonly Finding[], probes: readonly ProbeResult[]): Status {
  return verdictFor({ findings, probes }).status;
}

/** Parse a whole console log (raw, as written by the QEMU runner). */
export function parseConsole(text: string): ConsoleResult {
  const all = splitConsoleLines(text);
  // The runner's mark is the host's line, not guest output: it does not end the guest's document.
  const hang = hangFinding(all);
  const lines = hang ? all.filter(l => l.no !== hang.line) : all;
  const doc = parseKtap(lines);
  const { findings, poweredOff } = classifyConsole(lines, { spans: doc.spans, tapLines: doc.tapLines });
  for (const { probeIndex, text } of doc.planIssues) {
    const span = doc.spans.find(s => s.probeIndex === probeIndex);
    if (span) findings.push({ kind: 'plan', line: span.end ?? span.start, text, probe: span.id });
  }

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
  if (hang) findings.push(atEnd(hang));
  // In console order (stable: same-line findings keep their order); line 0 is not tied to a line.
  findings.sort((a, b) => (a.line || Infinity) - (b.line || Infinity));

  for (const f of findings) {
    if (f.probe === undefined) continue;
    const span = f.line > 0 ? spanAt(doc.spans, f.line) : open;
    if (span) doc.probes[span.probeIndex]?.findings.push(f);
  }
  // The entry cut short gets the run's own ladder over its findings: a hang
  // is its TIMEOUT (the run's too), not a crash of its own.
  const cut = open ? doc.probes[open.probeIndex] : undefined;
  if (cut) {
    const status = verdictFor({ findings: cut.findings, probes: [cut] }).status;
    if (status === 'TIMEOUT' && hang) cut.reason = hang.text;
    cut.status = status;
  }

  const facts = { findings, probes: doc.probes, ktapFound: doc.found, complete: doc.complete };
  return {
    status: verdictFor(facts).status,
    ktapFound: doc.found,
    complete: doc.complete,
    poweredOff,
    probes: doc.probes,
    findings,
  };
}

/** Exit code for a parsed console: the same ladder as its status (verdict.ts); INFRA maps to 3. */
export function exitCodeFor(result: ConsoleResult): ExitCodeValue {
  if (result.status === 'INFRA') return ExitCode.INFRA;
  return verdictFor(result).exitCode;
}
