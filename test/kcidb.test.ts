// --kcidb: a run as KCIDB v5.3 JSON, validated against kcidb-io's own schema
// (test/fixtures/kcidb/, vendored), from recorded consoles.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConsole } from '../harness/console/parse-console.ts';
import { kcidbClaims, kcidbDocument, kcidbStatus, patchsetHash } from '../harness/report/kcidb.ts';
import { kcidbErrors } from './fixtures/kcidb/validate.ts';

const repo = join(import.meta.dirname, '..');
const log = (f: string) => parseConsole(readFileSync(join(repo, 'test/fixtures/console', f), 'utf8'));

const run = (variant: string, f: string, patches: { path: string; sha256: string }[] = []) => ({
  variant, arch: 'x86_64', result: log(f), sourceIdentity: `git-tree:${variant}`, buildKey: `key${variant}`, compiler: 'gcc (Debian 12.2.0-14) 12.2.0',
  tree: 'Debian linux-source-6.1 (6.1.158-1)', baseCommit: 'a'.repeat(40), patches, accel: 'tcg', buildSeconds: 47.5,
  ...(patches.length ? { messageId: '20200918124533.3487701-2-hch@lst.de' } : {}),
});

t.test('a run of two variants is valid KCIDB v5.3', async (t) => {
  const doc = kcidbDocument([
    run('base', 'all-pass.log'),
    run('fix', 'probe-fail.log', [{ path: '/r/fix/patches/0001-a.patch', sha256: '1'.repeat(64) }, { path: '/r/fix/patches/0002-b.patch', sha256: '2'.repeat(64) }]),
    run('warned', 'warning-splat.log'),
  ]) as { version: unknown; checkouts: Record<string, unknown>[]; builds: Record<string, unknown>[]; tests: { path: string; status: string }[] };
  t.same(kcidbErrors(doc), [], 'valid against kcidb-io\'s schema');
  t.same(doc.version, { major: 5, minor: 3 });
  t.equal(doc.checkouts.length, 3);
  t.equal(doc.checkouts[1]!.patchset_hash, patchsetHash(['1'.repeat(64), '2'.repeat(64)]));
  t.equal(doc.checkouts[1]!.message_id, '20200918124533.3487701-2-hch@lst.de');
  t.same(doc.checkouts[1]!.patchset_files, [{ name: '0001-a.patch', url: 'file:///r/fix/patches/0001-a.patch' }, { name: '0002-b.patch', url: 'file:///r/fix/patches/0002-b.patch' }]);
  t.equal(doc.checkouts[0]!.patchset_hash, '', 'no patches: the empty hash');
  t.ok(doc.tests.some((x) => x.path === 'kseries.readv_writev.compat.writev' && x.status === 'PASS'), 'dotted paths: probe.abi.case');
  t.ok(doc.tests.some((x) => x.status === 'FAIL'), 'the failed probe');
  t.match(kcidbErrors({ ...doc, tests: [{ ...doc.tests[0], status: 'CRASHED' }] }).join('\n'), /\/tests\/0\/status must be equal to one of the allowed values/, 'the schema is really applied');
});

t.test('statuses and the patchset hash follow KCIDB\'s definitions', async (t) => {
  t.same(['PASS', 'FAIL', 'SKIP', 'CRASHED', 'TIMEOUT', 'INFRA', 'MISSING'].map((s) => kcidbStatus(s as never)), ['PASS', 'FAIL', 'SKIP', 'FAIL', 'ERROR', 'MISS', 'MISS']);
  t.equal(patchsetHash([]), '');
  // Files holding "abc\n" and "def\n": `sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64` gave this with coreutils.
  t.equal(patchsetHash(['edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb', 'da1464fd7ceaf38ff56043bc1774af4fb5cb83ef5358981d78de0b8be5a6fbcb']), '252a1769233d2d78040262f1ae59ede4ea699ba18c4c6b9b6ed664e476e427f0');
});

t.test('claims are issues, and the probe rows of decided claims incidents on their tests', async (t) => {
  const runs = [run('base', 'all-pass.log'), run('fix', 'probe-fail.log')];
  const doc = kcidbDocument(runs) as { tests: { id: string; path: string; status: string }[] };
  const failing = runs[1]!.result.probes.find((p) => p.status === 'FAIL')!;
  const failCase = failing.cases.find((c) => c.status === 'FAIL')!;
  const passing = runs[0]!.result.probes[0]!;
  const { issues, incidents } = kcidbClaims([
    {
      profile: 'p', id: '1-it-breaks', author: 'Al Viro', claim: 'The fix breaks the probe.', reportUrl: 'https://lore.kernel.org/r/x@y', verdict: 'confirmed', reason: 'r',
      evidence: [
        { variant: 'fix', abi: failing.abi, probe: failing.probe, case: failCase.name, status: 'FAIL', line: 'errno=14' },
        { variant: 'base', abi: passing.abi, probe: passing.probe, status: 'PASS' },
        { variant: 'fix', abi: '', probe: '', status: 'APPLIED' },
      ],
    },
    { profile: 'p', id: '2-no', author: 'kseries', claim: 'It does not.', verdict: 'refuted', reason: 'r', evidence: [{ variant: 'base', abi: passing.abi, probe: passing.probe, status: 'PASS' }] },
    { profile: 'p', id: '3-open', author: 'A', claim: 'Unknown.', verdict: 'inconclusive', reason: 'a probe skipped', evidence: [{ variant: 'base', abi: passing.abi, probe: passing.probe, status: 'SKIP' }] },
  ], runs);
  const full = { ...doc, issues, incidents };
  t.same(kcidbErrors(full), [], 'issues and incidents valid against kcidb-io\'s schema');
  t.same(issues.map((i) => i.id), ['kseries:claim:p:1-it-breaks', 'kseries:claim:p:2-no', 'kseries:claim:p:3-open'], 'every claim is an issue');
  t.equal(issues[0]!.report_url, 'https://lore.kernel.org/r/x@y');
  t.notOk('report_url' in issues[1]!, "kseries' own observation has no mail");
  t.same((issues[2]!.misc as { verdict: string }).verdict, 'inconclusive');
  t.equal(incidents.length, 3, 'two probe rows of claim 1, one of claim 2; none for the series row or the undecided claim');
  const ids = new Set(doc.tests.map((x) => x.id));
  for (const i of incidents) t.ok(ids.has(i.test_id as string), `incident ${i.id} points at a test of the document`);
  t.match(incidents[0]!.test_id, new RegExp(`:${failCase.name}$`), 'a case row points at the case test');
  t.same(incidents.map((i) => i.present), [true, true, false], 'present when confirmed, absent when refuted');
  t.match(incidents[0]!.comment, /FAIL errno=14/);
});
