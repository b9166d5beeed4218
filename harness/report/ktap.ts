// kseries' own answer as a KTAP v1 document, so it nests under a kselftest
// runner or KernelCI: the probes of a run (each a subtest with its cases), or
// the claims of a profile (one test each). Pure.
import type { ConsoleResult, ProbeCase, ProbeResult, Status } from '../model/results.ts';

/** A KTAP test name: one line, no '#' (which would start a directive). */
const testName = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/#/g, '_').trim() || 'unnamed';
const diag = (indent: string, lines: readonly string[]) => lines.map((l) => `${indent}# ${l.replace(/[\r\n]+/g, ' ')}`);

/** The result line of a test with this status: SKIP is ok with a directive, anything not PASS is not ok. */
function resultLine(indent: string, n: number, name: string, status: Status | ProbeCase['status'], reason?: string): string {
  const why = reason ? ` ${reason.replace(/[\r\n]+/g, ' ')}` : '';
  if (status === 'PASS') return `${indent}ok ${n} ${testName(name)}`;
  if (status === 'SKIP') return `${indent}ok ${n} ${testName(name)} # SKIP${why}`;
  return `${indent}not ok ${n} ${testName(name)}${status === 'FAIL' ? '' : ` # ${status}${why}`}`;
}

function probeLines(p: ProbeResult, n: number): string[] {
  const ind = '    ';
  const out = [`${ind}KTAP version 1`, `${ind}# Subtest: ${testName(p.id)}`, `${ind}1..${p.cases.length}`];
  p.cases.forEach((c, i) => out.push(...diag(ind, c.diagnostics), resultLine(ind, i + 1, c.name, c.status, c.reason)));
  out.push(...diag(ind, p.kmsg.map((l) => `kmsg: ${l}`)));
  out.push(...diag('', p.findings.map((f) => `${f.kind}${f.line > 0 ? ` at console line ${f.line}` : ''}: ${f.text}`)));
  out.push(resultLine('', n, p.id, p.status, p.reason));
  return out;
}

/** A run's results: one subtest per probe × ABI, its cases inside. */
export function resultsKtap(result: ConsoleResult): string {
  const out = ['KTAP version 1', `1..${result.probes.length}`];
  result.probes.forEach((p, i) => out.push(...probeLines(p, i + 1)));
  const loose = result.findings.filter((f) => !f.probe);
  out.push(...diag('', loose.map((f) => `${f.kind}${f.line > 0 ? ` at console line ${f.line}` : ''}: ${f.text}`)));
  return out.join('\n') + '\n';
}

export interface ClaimKtapEntry {
  id: string;
  verdict: 'confirmed' | 'refuted' | 'inconclusive' | 'infra-error';
  /** Set when the claim recorded an expectation and was decided. */
  unexpected?: boolean;
  reason: string;
  /** "who, date: the claim", a diagnostic line before the result. */
  said?: string;
}

/**
 * Claims: ok when decided as recorded (or decided, without an expectation), not ok when
 * decided against the expectation or not decidable for the infrastructure, SKIP when inconclusive.
 */
export function claimsKtap(entries: readonly ClaimKtapEntry[], invalid: readonly { id: string; error: string }[] = []): string {
  const out = ['KTAP version 1', `1..${entries.length + invalid.length}`];
  entries.forEach((e, i) => {
    out.push(...diag('', [...(e.said ? [e.said] : []), `${e.verdict}: ${e.reason}`]));
    const n = i + 1;
    if (e.verdict === 'inconclusive') out.push(resultLine('', n, e.id, 'SKIP', `inconclusive: ${e.reason}`));
    else if (e.verdict === 'infra-error') out.push(resultLine('', n, e.id, 'INFRA', e.reason));
    else out.push(e.unexpected ? `not ok ${n} ${testName(e.id)} # ${e.verdict}, against the recorded expectation` : resultLine('', n, e.id, 'PASS'));
  });
  invalid.forEach((x, i) => out.push(...diag('', [x.error]), `not ok ${entries.length + i + 1} ${testName(x.id)} # invalid claim file`));
  return out.join('\n') + '\n';
}
