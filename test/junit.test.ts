// --junit: the pure JUnit writers on recorded console logs and synthetic
// verdicts, every document validated against the common JUnit schema
// (test/fixtures/junit, Jenkins' junit-4 XSD), and the CLI writing one.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConsole } from '../harness/console/parse-console.ts';
import { bisectJunit, claimsJunit, junitXml, resultsJunit, reviewJunit } from '../harness/report/junit.ts';
import { junitSchemaErrors } from './fixtures/junit/validate.ts';

const repo = join(import.meta.dirname, '..');
const fixture = (name: string) => readFile(join(repo, 'test/fixtures/console', name), 'utf8');
/** testcase name → the element inside it (failure, error, skipped) or 'pass'. */
function outcomes(xml: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)"(\/>|>\n\s*<(failure|error|skipped|system-out))/g)) m.set(`${c[2]} ${c[1]}`, c[4] === undefined || c[4] === 'system-out' ? 'pass' : c[4]);
  return m;
}

t.test('a run: one testsuite per probe, one testcase per case, statuses as JUnit has them', async (t) => {
  for (const log of ['all-pass.log', 'probe-fail.log', 'skip-timeout.log', 'panic-truncated.log', 'real-debian-6.1-tcg.log']) {
    const result = parseConsole(await fixture(log));
    const xml = junitXml('kseries parse', resultsJunit(result.probes));
    t.same(await junitSchemaErrors(xml), [], `${log}: valid against the JUnit schema`);
    const cases = result.probes.reduce((n, p) => n + Math.max(1, p.cases.length), 0);
    t.ok(Number(/<testsuites [^>]*tests="(\d+)"/.exec(xml)![1]) >= cases, `${log}: every case is a testcase`);
    const got = outcomes(xml);
    for (const p of result.probes) {
      for (const c of p.cases) {
        const want = { PASS: 'pass', FAIL: 'failure', SKIP: 'skipped' }[c.status];
        t.equal(got.get(`kseries.${p.id} ${c.name}`), want, `${log}: ${p.id} ${c.name} ${c.status}`);
      }
      if (p.cases.length === 0) t.equal(got.get(`kseries.${p.id} ${p.id}`), p.status === 'PASS' ? 'pass' : p.status === 'FAIL' ? 'failure' : p.status === 'SKIP' ? 'skipped' : 'error', `${log}: ${p.id} without cases is one testcase (${p.status})`);
    }
  }
  const failing = parseConsole(await fixture('probe-fail.log'));
  const xml = junitXml('x', resultsJunit(failing.probes));
  t.match(xml, /<failure message="[^"]+"\/>/, 'a failure says why, on one line');
  const timeout = junitXml('x', resultsJunit(parseConsole(await fixture('skip-timeout.log')).probes));
  t.match(timeout, /<error message="[^"]*"/, 'a TIMEOUT is an error, not a failure');
  t.match(timeout, /<skipped>[^<]+<\/skipped>/, 'a SKIP keeps its reason');
  const several = junitXml('x', resultsJunit(failing.probes, { variant: 'v4' }));
  t.match(several, /<testsuite name="v4\.[^"]+:[^"]+"/, 'several variants: the suite names carry the variant');
  t.match(several, /classname="kseries\.v4\./);
});

t.test('claims, bisect and review documents are valid and say what decided them', async (t) => {
  const claims = junitXml('kseries claims p', claimsJunit('p', [
    { id: 'ok-as-recorded', verdict: 'confirmed', reason: 'r1', said: 'A, 2020-09-18: it holds' },
    { id: 'against', verdict: 'refuted', unexpected: true, reason: 'r2' },
    { id: 'open', verdict: 'inconclusive', reason: 'a probe skipped' },
    { id: 'machine', verdict: 'infra-error', reason: 'qemu missing' },
  ], [{ id: 'bad-file', error: 'observable: unknown predicate' }]));
  t.same(await junitSchemaErrors(claims), []);
  const c = outcomes(claims);
  t.same([...c.values()], ['pass', 'failure', 'skipped', 'error', 'failure']);
  t.match(claims, /<failure message="refuted, against the recorded expectation: r2"\/>/);
  t.match(claims, /<skipped>inconclusive: a probe skipped<\/skipped>/);
  t.match(claims, /<system-out>A, 2020-09-18: it holds\nconfirmed: r1<\/system-out>/, "who said it and the verdict's reason are kept");

  const bisect = junitXml('kseries bisect', bisectJunit('"s" v4', [
    { k: 0, decided: 'good', label: 'base', value: 'PASS' },
    { k: 9, decided: 'bad', label: '9/9 last', value: 'FAIL:x=FAIL' },
    { k: 5, decided: 'skip', label: '5/9 middle', reason: 'build failed' },
  ], { status: 'found', line: 'first bad: 8/9' }));
  t.same(await junitSchemaErrors(bisect), []);
  t.same([...outcomes(bisect).values()], ['pass', 'failure', 'skipped', 'pass']);
  for (const [status, want] of [['no-change', 'skipped'], ['ambiguous', 'failure'], ['infra', 'error']] as const) {
    const x = junitXml('b', bisectJunit('n', [], { status, line: `it was ${status}` }));
    t.same(await junitSchemaErrors(x), []);
    t.equal(outcomes(x).get('kseries.bisect first change'), want, `a ${status} verdict is ${want}`);
  }

  const review = junitXml('kseries review', reviewJunit([
    { variant: 'base', values: { 'a:compat': { value: 'PASS' }, 'b:compat': { value: 'PASS' }, 'c:compat': { value: 'PASS' } } },
    { variant: 'v1', values: { 'a:compat': { value: 'PASS' }, 'b:compat': { value: 'FAIL:x=FAIL' }, 'c:compat': { missing: 'build failed' } } },
  ], ['a:compat', 'b:compat', 'c:compat']));
  t.same(await junitSchemaErrors(review), []);
  t.same([...outcomes(review).values()], ['pass', 'failure', 'skipped']);
  t.match(review, /message="base: PASS → v1: FAIL:x=FAIL"/);
  t.same(reviewJunit([], []), [], 'no table, no suites');
});

t.test('names and output that are not XML-safe stay valid', async (t) => {
  const xml = junitXml('a & <b>', [{ name: 'quo"te <&>', cases: [{ name: 'c\u0001\u001b[0m "x"', classname: 'k.s', status: 'fail', message: 'line1\nline2 & <tag>', output: ['\u0000nul', 'ok ]]> end'] }] }]);
  t.same(await junitSchemaErrors(xml), []);
  t.notMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/, 'no control characters left');
  t.match(xml, /message="line1 line2 &amp; &lt;tag&gt;"/, 'a message is one line');
});

t.test('kseries parse --junit writes a valid document', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-junit-'));
  const file = join(dir, 'report.xml');
  const r = await execa('node', [join(repo, 'bin/kseries.js'), 'parse', join(repo, 'test/fixtures/console/probe-fail.log'), '--junit', file], { reject: false });
  t.equal(r.exitCode, 1, 'a failing probe: exit 1');
  const xml = await readFile(file, 'utf8');
  t.same(await junitSchemaErrors(xml), []);
  t.match(xml, /<testsuites name="kseries parse"/);
  t.match(xml, /<failure /);
});
