// kseries' own answer as KTAP (harness/report/ktap.ts): a run's results read
// back by kseries' own console parser and by node-tap's tap-parser give the
// same probes, cases and statuses; the claims become one test each.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'tap-parser';
import { parseConsole } from '../harness/console/parse-console.ts';
import { claimsKtap, resultsKtap } from '../harness/report/ktap.ts';

const repo = join(import.meta.dirname, '..');
const consoleDir = join(repo, 'test/fixtures/console');

/** A status once read back: TIMEOUT is a KTAP directive and comes back; a crash is only "not ok" (its findings are comments). */
const plain = (s: string) => (s === 'CRASHED' || s === 'INFRA' ? 'FAIL' : s);

t.test('a run as KTAP reads back to the same probes, cases and statuses, for every recorded console', async (t) => {
  for (const f of (await readdir(consoleDir)).filter((x) => x.endsWith('.log'))) {
    const before = parseConsole(await readFile(join(consoleDir, f), 'utf8'));
    const ktap = resultsKtap(before);
    t.ok(ktap.startsWith('KTAP version 1\n'), `${f}: a KTAP v1 document`);
    const after = parseConsole(ktap);
    t.same(
      after.probes.map((p) => `${p.id} ${p.status} ${p.cases.map((c) => `${c.name}=${c.status}`).join(' ')}`),
      before.probes.map((p) => `${p.id} ${plain(p.status)} ${p.cases.map((c) => `${c.name}=${c.status}`).join(' ')}`),
      `${f}: same probes and cases`,
    );
    t.same(after.probes.map((p) => p.cases.map((c) => c.diagnostics)), before.probes.map((p) => p.cases.map((c) => c.diagnostics)), `${f}: the diagnostics kept with their cases`);
    const tp = new Parser();
    const done = new Promise<{ ok: boolean; count: number; pass: number; fail: number; skip: number }>((res) => tp.on('complete', res));
    tp.end(ktap);
    const r = await done;
    t.equal(r.count, before.probes.length, `${f}: tap-parser counts each probe`);
    t.equal(r.fail, before.probes.filter((p) => !['PASS', 'SKIP'].includes(p.status)).length, `${f}: and the ones not ok`);
  }
});

t.test('names that would break a KTAP line are made safe', async (t) => {
  const ktap = resultsKtap({ status: 'FAIL', ktapFound: true, complete: true, poweredOff: true, findings: [], probes: [{ id: 'exec:a#b', probe: 'exec', abi: 'x', status: 'TIMEOUT', reason: 'killed after 60 s', cases: [], diagnostics: [], kmsg: [], findings: [] }] });
  t.match(ktap, /^not ok 1 exec:a_b # TIMEOUT killed after 60 s$/m);
});

t.test('claims as KTAP: ok as recorded, not ok against the expectation or for the infrastructure, SKIP when inconclusive', async (t) => {
  const ktap = claimsKtap(
    [
      { id: 'a', verdict: 'confirmed', unexpected: false, reason: 'x is FAIL', said: 'Reviewer, 2020-09-19: x fails' },
      { id: 'b', verdict: 'refuted', unexpected: true, reason: 'y is PASS' },
      { id: 'c', verdict: 'inconclusive', reason: 'z is SKIP (no SQPOLL)' },
      { id: 'd', verdict: 'infra-error', reason: 'variant v1: build failed' },
      { id: 'e', verdict: 'refuted', reason: 'w is PASS' },
    ],
    [{ id: 'f', error: 'claim f.json: observable: is required' }],
  );
  const lines = ktap.split('\n');
  t.same(lines.filter((l) => /^(not )?ok /.test(l)), [
    'ok 1 a',
    'not ok 2 b # refuted, against the recorded expectation',
    'ok 3 c # SKIP inconclusive: z is SKIP (no SQPOLL)',
    'not ok 4 d # INFRA variant v1: build failed',
    'ok 5 e',
    'not ok 6 f # invalid claim file',
  ]);
  t.ok(lines.includes('# Reviewer, 2020-09-19: x fails'));
  t.equal(lines[1], '1..6');
});

t.test('kseries parse --ktap writes the document, and parsing it gives the same exit code', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-ktap-'));
  for (const [f, code] of [['all-pass.log', 0], ['probe-fail.log', 1]] as const) {
    const out = join(dir, `${f}.ktap`);
    const r = await execa('node', [join(repo, 'bin/kseries.js'), 'parse', join(consoleDir, f), '--ktap', out], { reject: false });
    t.equal(r.exitCode, code, f);
    const again = await execa('node', [join(repo, 'bin/kseries.js'), 'parse', out], { reject: false });
    t.equal(again.exitCode, code, `${f} as KTAP`);
  }
});
