// kseries' answers as JUnit XML, as kunit.py and tuxrun offer it, for CI
// systems that show test reports (Jenkins, GitLab, GitHub Actions reporters).
// The shape is the common one (Jenkins' junit-4 XSD): <testsuites>, one
// <testsuite> per probe (or claims, bisect, review variant), one <testcase>
// per case, with <failure>, <error> or <skipped>. Pure.
import type { ProbeCase, ProbeResult, Status } from '../model/results.ts';
import type { ClaimKtapEntry } from './ktap.ts';

export type JunitStatus = 'pass' | 'fail' | 'error' | 'skip';

export interface JunitCase {
  name: string;
  /** Dotted, as CI tools group by it: "kseries.<suite>". */
  classname: string;
  status: JunitStatus;
  /** One line: why it failed, errored or was skipped. */
  message?: string;
  /** Lines kept as the case's system-out: its diagnostics, the evidence. */
  output?: readonly string[];
}

export interface JunitSuite {
  name: string;
  cases: JunitCase[];
  /** Lines about the suite as a whole (kernel-log findings), as its system-out. */
  output?: readonly string[];
}

// XML 1.0 allows tab, LF, CR and everything from U+0020 up (minus surrogates and U+FFFE/F).
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/g;
const text = (s: string) => s.replace(INVALID_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const attr = (s: string) => text(s.replace(/[\r\n\t]+/g, ' ')).replace(/"/g, '&quot;');

function caseXml(c: JunitCase): string[] {
  const open = `    <testcase name="${attr(c.name)}" classname="${attr(c.classname)}"`;
  const body: string[] = [];
  const message = c.message !== undefined ? ` message="${attr(c.message)}"` : '';
  if (c.status === 'skip') body.push(`      <skipped>${text(c.message ?? '')}</skipped>`);
  else if (c.status === 'error') body.push(`      <error${message}/>`);
  else if (c.status === 'fail') body.push(`      <failure${message}/>`);
  if (c.output && c.output.length > 0) body.push(`      <system-out>${text(c.output.join('\n'))}</system-out>`);
  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>'];
}

const count = (cases: readonly JunitCase[], s: JunitStatus) => cases.filter((c) => c.status === s).length;

/** The XML document: <testsuites name=…> with every suite. */
export function junitXml(name: string, suites: readonly JunitSuite[]): string {
  const all = suites.flatMap((s) => s.cases);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="${attr(name)}" tests="${all.length}" failures="${count(all, 'fail')}" errors="${count(all, 'error')}">`];
  suites.forEach((s, i) => {
    out.push(`  <testsuite name="${attr(s.name)}" id="${i}" tests="${s.cases.length}" failures="${count(s.cases, 'fail')}" errors="${count(s.cases, 'error')}" skipped="${count(s.cases, 'skip')}">`);
    for (const c of s.cases) out.push(...caseXml(c));
    if (s.output && s.output.length > 0) out.push(`    <system-out>${text(s.output.join('\n'))}</system-out>`);
    out.push('  </testsuite>');
  });
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** A probe or case status as JUnit's: TIMEOUT, CRASHED and INFRA are errors (the test could not finish). */
export function junitStatus(s: Status | ProbeCase['status']): JunitStatus {
  if (s === 'PASS') return 'pass';
  if (s === 'FAIL') return 'fail';
  if (s === 'SKIP') return 'skip';
  return 'error';
}

const findingLine = (f: ProbeResult['findings'][number]) => `${f.kind}${f.line > 0 ? ` at console line ${f.line}` : ''}: ${f.text}`;

/**
 * A run's probes: one suite per probe × ABI (prefixed with its variant when a
 * run has several), one case per probe case. A probe that reported no cases
 * (it crashed or timed out first) is one case carrying the probe's status.
 */
export function resultsJunit(probes: readonly ProbeResult[], o: { variant?: string } = {}): JunitSuite[] {
  return probes.map((p) => {
    const suite = o.variant ? `${o.variant}.${p.id}` : p.id;
    const classname = `kseries.${suite}`;
    const cases: JunitCase[] =
      p.cases.length > 0
        ? p.cases.map((c) => ({ name: c.name, classname, status: junitStatus(c.status), ...(c.status !== 'PASS' ? { message: c.reason ?? c.diagnostics[c.diagnostics.length - 1] ?? c.status } : {}), output: c.diagnostics }))
        : [{ name: p.id, classname, status: junitStatus(p.status), ...(p.status !== 'PASS' ? { message: p.reason ?? p.status } : {}) }];
    // A probe whose cases all passed can still fail as a whole (a kernel warning, a bad exit): keep that visible.
    if (p.cases.length > 0 && p.status !== 'PASS' && p.cases.every((c) => c.status !== 'FAIL') && p.status !== 'SKIP') {
      cases.push({ name: `${p.id} (as a whole)`, classname, status: junitStatus(p.status), message: p.reason ?? p.status });
    }
    return { name: suite, cases, output: [...p.kmsg.map((l) => `kmsg: ${l}`), ...p.findings.map(findingLine)] };
  });
}

/**
 * Claims: one suite, one case per claim. Decided as recorded (or decided with
 * no expectation) passes; decided against the expectation fails; infra-error
 * is an error; inconclusive is skipped, with the reason. Invalid files fail.
 */
export function claimsJunit(profile: string, entries: readonly ClaimKtapEntry[], invalid: readonly { id: string; error: string }[] = []): JunitSuite[] {
  const classname = `kseries.claims.${profile}`;
  const cases: JunitCase[] = entries.map((e) => {
    const output = [...(e.said ? [e.said] : []), `${e.verdict}: ${e.reason}`];
    if (e.verdict === 'inconclusive') return { name: e.id, classname, status: 'skip', message: `inconclusive: ${e.reason}`, output };
    if (e.verdict === 'infra-error') return { name: e.id, classname, status: 'error', message: e.reason, output };
    if (e.unexpected) return { name: e.id, classname, status: 'fail', message: `${e.verdict}, against the recorded expectation: ${e.reason}`, output };
    return { name: e.id, classname, status: 'pass', output };
  });
  for (const x of invalid) cases.push({ name: x.id, classname, status: 'fail', message: `invalid claim file: ${x.error}` });
  return [{ name: `claims.${profile}`, cases }];
}

/** One tested prefix of a bisect: good, bad or skipped, and what it showed. */
export interface JunitBisectStep {
  k: number;
  decided: 'good' | 'bad' | 'skip';
  /** "8/9 fs: …" */
  label: string;
  value?: string;
  reason?: string;
}

/**
 * A bisect: one suite, one case per tested prefix (good passes, bad fails, an
 * untestable prefix is skipped), then the verdict: passes when the first
 * changing patch or commit was named, is skipped when the ends agree (nothing
 * to bisect), fails when it stays ambiguous, is an error for the machine's.
 */
export function bisectJunit(name: string, steps: readonly JunitBisectStep[], verdict: { status: 'found' | 'no-change' | 'ambiguous' | 'infra'; line: string }): JunitSuite[] {
  const classname = 'kseries.bisect';
  const cases: JunitCase[] = steps.map((s) => {
    const output = s.value !== undefined ? [`observed: ${s.value}`] : [];
    if (s.decided === 'good') return { name: `prefix ${s.label}`, classname, status: 'pass', output };
    if (s.decided === 'bad') return { name: `prefix ${s.label}`, classname, status: 'fail', message: `differs from the base${s.value !== undefined ? `: ${s.value}` : ''}`, output };
    return { name: `prefix ${s.label}`, classname, status: 'skip', message: s.reason ?? 'could not be tested', output };
  });
  const status: JunitStatus = { found: 'pass', 'no-change': 'skip', ambiguous: 'fail', infra: 'error' }[verdict.status] as JunitStatus;
  cases.push({ name: 'first change', classname, status, ...(status !== 'pass' ? { message: verdict.line } : {}), output: [verdict.line] });
  return [{ name: `bisect ${name}`, cases }];
}

/** A review's table: one suite per variant after the base, one case per cell compared with the base. */
export function reviewJunit(table: readonly { variant: string; values: Record<string, { value?: string; missing?: string }> }[], cells: readonly string[]): JunitSuite[] {
  const [base, ...rest] = table;
  if (!base) return [];
  return rest.map((row) => {
    const classname = `kseries.review.${row.variant}`;
    const cases: JunitCase[] = cells.map((cell) => {
      const b = base.values[cell];
      const v = row.values[cell];
      if (v?.value === undefined || b?.value === undefined) {
        return { name: cell, classname, status: 'skip', message: v?.missing ?? b?.missing ?? 'no value on one side' };
      }
      if (v.value === b.value) return { name: cell, classname, status: 'pass', output: [v.value] };
      return { name: cell, classname, status: 'fail', message: `${base.variant}: ${b.value} → ${row.variant}: ${v.value}`, output: [v.value] };
    });
    return { name: `review.${row.variant}`, cases };
  });
}
