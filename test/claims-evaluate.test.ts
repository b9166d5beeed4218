import t from 'tap';
import { caseKey, claimLines, evaluateClaim, evaluateClaims, flakyKey } from '../harness/claims/evaluate.ts';
import { caseIn, loadFixtureClaims, mkClaim, probeIn, ref, results } from './fixtures/claims/helpers.ts';
import { compactLine } from '../harness/claims/report.ts';
import type { PatchApplyReport } from '../harness/apply/apply-types.ts';

const setupCase = (variant: string, abi: string, kase: string) => ref(variant, abi, 'io_uring_setup', kase);

t.test('the fixture claims: confirmed, refuted, and expectations', async (t) => {
  const claims = await loadFixtureClaims();
  const evs = evaluateClaims(claims, results());
  const by = Object.fromEntries(evs.map((e) => [e.id, e]));
  t.equal(evs.length, claims.length);
  t.equal(by['first-diff-refuses-every-compat-ring']!.verdict, 'confirmed');
  t.equal(by['first-diff-refuses-every-compat-ring']!.unexpected, false, 'expected confirmed, got confirmed');
  t.equal(by['corrected-sqpoll-only']!.verdict, 'confirmed');
  t.equal(by['compat-differs-from-native32']!.verdict, 'confirmed');
  t.match(by['compat-differs-from-native32']!.reason, /pavel-corrected io_uring_setup:compat setup_sqpoll is FAIL errno=22 but pavel-corrected io_uring_setup:native32 setup_sqpoll is PASS/);
  t.equal(by['readv-untouched']!.verdict, 'confirmed');
  t.equal(by['readv-untouched']!.unexpected, undefined, 'no expectation recorded');
  const broken = by['corrected-breaks-inline-readv']!;
  t.equal(broken.verdict, 'refuted');
  t.equal(broken.unexpected, true, 'expected confirmed, got refuted');
  t.match(broken.reason, /pavel-corrected io_uring_readv:compat readv_inline_plain_fd is PASS, not FAIL/);
});

t.test('case predicates: status and diagnostic regex (case-insensitive)', async (t) => {
  const res = results();
  const fail = setupCase('pavel-first', 'compat', 'setup_default');
  const yes = evaluateClaim(mkClaim({ case: fail, status: 'FAIL', diagnostic: 'errno=22 einval' }), res);
  t.equal(yes.verdict, 'confirmed');
  t.match(yes.reason, /is FAIL: "setup_default: ret=-1 errno=22 EINVAL \(Invalid argument\)"/);
  t.same(yes.evidence[0]!.lines, ['setup_default: ret=-1 errno=22 EINVAL (Invalid argument)'], 'the matching line is the evidence');
  t.equal(yes.evidence[0]!.status, 'FAIL');
  t.equal(yes.evidence.length, 1, 'a single-variant claim has no comparison rows');

  const wrongErrno = evaluateClaim(mkClaim({ case: fail, status: 'FAIL', diagnostic: 'EPERM' }), res);
  t.equal(wrongErrno.verdict, 'refuted');
  t.match(wrongErrno.reason, /is FAIL but no diagnostic matches \/EPERM\//);

  const wrongStatus = evaluateClaim(mkClaim({ case: fail, status: 'PASS' }), res);
  t.equal(wrongStatus.verdict, 'refuted');
  t.match(wrongStatus.reason, /pavel-first io_uring_setup:compat setup_default is FAIL, not PASS/);
});

t.test('probe predicates compare the probe-level status', async (t) => {
  const res = results();
  t.equal(evaluateClaim(mkClaim({ probe: ref('pavel-first', 'compat', 'io_uring_readv'), status: 'FAIL' }), res).verdict, 'confirmed');
  const r = evaluateClaim(mkClaim({ probe: ref('pavel-first', 'native64', 'io_uring_readv'), status: 'FAIL' }), res);
  t.equal(r.verdict, 'refuted');
  t.match(r.reason, /pavel-first io_uring_readv:native64 is PASS, not FAIL/);
  t.same(r.evidence[0]!.lines, ['all 3 cases PASS']);
  const rows = evaluateClaim(mkClaim({ probe: ref('pavel-corrected', 'compat', 'io_uring_setup'), status: 'FAIL' }), res).evidence[0]!;
  t.same(rows.lines, ['setup_sqpoll: FAIL · setup_sqpoll: ret=-1 errno=22 EINVAL (Invalid argument)'], 'probe rows name each case that did not pass, with its deciding line on the same line');
});

t.test('same / differ on cases compare status plus errno', async (t) => {
  const res = results();
  const base = setupCase('base', 'compat', 'setup_sqpoll');
  const first = setupCase('pavel-first', 'compat', 'setup_sqpoll');
  const corrected = setupCase('pavel-corrected', 'compat', 'setup_sqpoll');
  t.equal(evaluateClaim(mkClaim({ differ: [base, first] }), res).verdict, 'confirmed');
  t.equal(evaluateClaim(mkClaim({ same: [base, first] }), res).verdict, 'refuted');
  const same = evaluateClaim(mkClaim({ same: [first, corrected] }), res);
  t.equal(same.verdict, 'confirmed');
  t.match(same.reason, /are the same \(FAIL errno=22\)/);

  // Same status, different errno: not the same.
  const c = caseIn(res, 'pavel-corrected', 'io_uring_setup:compat', 'setup_sqpoll');
  c.diagnostics = ['setup_sqpoll: ret=-1 errno=1 EPERM (Operation not permitted)'];
  t.equal(caseKey(c), 'FAIL errno=1');
  const d = evaluateClaim(mkClaim({ same: [first, corrected] }), res);
  t.equal(d.verdict, 'refuted');
  t.match(d.reason, /is FAIL errno=22 but .* is FAIL errno=1/);
  t.equal(evaluateClaim(mkClaim({ differ: [first, corrected] }), res).verdict, 'confirmed');
});

t.test('same / differ with "value" compare what a regex captures from each side', async (t) => {
  const res = results();
  const first = setupCase('pavel-first', 'compat', 'setup_sqpoll');
  const corrected = setupCase('pavel-corrected', 'compat', 'setup_sqpoll');
  caseIn(res, 'pavel-first', 'io_uring_setup:compat', 'setup_sqpoll').diagnostics = ['setup_sqpoll: ret=96 events=4 record_size=24 (expected 16)'];
  caseIn(res, 'pavel-corrected', 'io_uring_setup:compat', 'setup_sqpoll').diagnostics = ['setup_sqpoll: ret=64 events=4 record_size=16 (expected 16)'];
  const d = evaluateClaim(mkClaim({ differ: [first, corrected], value: 'record_size=(\\d+)' }), res);
  t.equal(d.verdict, 'confirmed');
  t.match(d.reason, /\/record_size=\(\\d\+\)\/ gives 24 for pavel-first io_uring_setup:compat setup_sqpoll but 16 for pavel-corrected/);
  t.match(d.evidence[0]!.lines[0]!, /record_size=24/, 'the evidence shows the line the value came from');
  t.equal(evaluateClaim(mkClaim({ same: [first, corrected], value: 'record_size=(\\d+)' }), res).verdict, 'refuted');
  t.equal(evaluateClaim(mkClaim({ same: [first, corrected], value: 'events=(\\d+)' }), res).verdict, 'confirmed', 'same value, other statuses alike or not');
  const none = evaluateClaim(mkClaim({ same: [first, corrected], value: 'width=(\\d+)' }), res);
  t.equal(none.verdict, 'inconclusive', 'no value on a side decides nothing');
  t.match(none.reason, /no diagnostic of pavel-first io_uring_setup:compat setup_sqpoll matches \/width=\(\\d\+\)\/: no value to compare/);
});

t.test('kmsg: a kernel-log line seen, or not, while a probe ran', async (t) => {
  const res = results();
  const p = probeIn(res, 'pavel-first', 'io_uring_setup:compat');
  const r = ref('pavel-first', 'compat', 'io_uring_setup');
  p.kmsg = ['io_uring: refusing SQPOLL for a compat task (pid 15)'];
  const seen = evaluateClaim(mkClaim({ kmsg: r, pattern: 'refusing SQPOLL' }), res);
  t.equal(seen.verdict, 'confirmed');
  t.match(seen.reason, /the kernel log of pavel-first io_uring_setup:compat has "io_uring: refusing SQPOLL for a compat task \(pid 15\)"/);
  t.same(seen.evidence[0]!.lines, ['io_uring: refusing SQPOLL for a compat task (pid 15)']);
  t.equal(seen.evidence[0]!.kmsg, 'refusing SQPOLL');
  t.equal(evaluateClaim(mkClaim({ kmsg: r, pattern: 'refusing SQPOLL', present: false }), res).verdict, 'refuted');
  const absent = evaluateClaim(mkClaim({ kmsg: r, pattern: 'WARNING: .*io_uring' }), res);
  t.equal(absent.verdict, 'refuted');
  t.same(absent.evidence[0]!.lines, ['no kernel-log line matches /WARNING: .*io_uring/']);
  // A WARN attributed to the probe is what a kmsg predicate looks at: the probe is CRASHED by it alone.
  p.status = 'CRASHED';
  p.findings = [{ kind: 'warning', line: 812, text: 'WARNING: CPU: 0 PID: 15 at fs/io_uring.c:8000 io_sq_offload_start+0x1/0x2', probe: 'io_uring_setup:compat' }];
  const warn = evaluateClaim(mkClaim({ kmsg: r, pattern: 'WARNING: .*io_uring\\.c' }), res);
  t.equal(warn.verdict, 'confirmed', 'a warning does not make a kmsg claim inconclusive');
  t.equal(evaluateClaim(mkClaim({ case: setupCase('pavel-first', 'compat', 'setup_sqpoll'), status: 'FAIL' }), res).verdict, 'inconclusive', 'other predicates still doubt a warned run');
  p.findings.push({ kind: 'oops', line: 820, text: 'BUG: kernel NULL pointer dereference', probe: 'io_uring_setup:compat' });
  const oops = evaluateClaim(mkClaim({ kmsg: r, pattern: 'WARNING' }), res);
  t.equal(oops.verdict, 'inconclusive', 'an oops does');
  t.match(oops.reason, /has kernel findings: oops at console line 820/);
});

t.test('series facts: touches, applies and samePatch, from how each patch went in', async (t) => {
  const res = results();
  const report = (index: number, over: Partial<PatchApplyReport> = {}): PatchApplyReport => ({
    index, total: 2, title: `patch ${index}`, messageId: `p${index}@x`, method: 'am', hunks: [], patchIdPosted: `${index}`.repeat(40), patchIdApplied: `${index}`.repeat(40), commit: 'c'.repeat(40),
    files: [{ path: index === 1 ? 'fs/io_uring.c' : 'include/linux/compat.h', insertions: 3, deletions: 1 }], ...over,
  });
  res['pavel-first']!.applied = [report(1), report(2, { method: 'fuzzy', hunks: [{ file: 'include/linux/compat.h', hunk: 1, headerFunction: '', offset: 3, fuzz: 1, landedFunction: '', misplaced: false }] })];
  res['pavel-corrected']!.applied = [report(1, { patchIdPosted: '9'.repeat(40) }), report(2)];
  const first = (patch?: number) => ({ variant: 'pavel-first', ...(patch !== undefined ? { patch } : {}) });
  const series = (observable: unknown, variants: string[]) => mkClaim(observable, { variants, abis: [], probes: [] });

  const touches = evaluateClaim(series({ touches: first(1), path: '^fs/io_uring\\.c$' }, ['pavel-first']), res);
  t.equal(touches.verdict, 'confirmed');
  t.match(touches.reason, /pavel-first patch 1 touches fs\/io_uring\.c/);
  t.same(touches.evidence.map((r) => `${r.patch} ${r.status} ${r.lines[0]}`), ['1 APPLIED "patch 1": am, every hunk in place; fs/io_uring.c +3 -1; patch-id 111111111111']);
  const not = evaluateClaim(series({ touches: first(2), path: 'io_uring' }, ['pavel-first']), res);
  t.equal(not.verdict, 'refuted');
  t.match(not.reason, /no file of pavel-first patch 2 matches \/io_uring\/ \(it touches include\/linux\/compat\.h\)/);
  const any = evaluateClaim(series({ touches: first(), path: 'compat\\.h' }, ['pavel-first']), res);
  t.equal(any.verdict, 'confirmed', 'without a patch number: any patch of the variant');
  t.equal(any.evidence.length, 2, 'and the evidence shows each patch');

  t.equal(evaluateClaim(series({ applies: first(1), method: 'am', exact: true }, ['pavel-first']), res).verdict, 'confirmed');
  const fuzzy = evaluateClaim(series({ applies: first(2), exact: true }, ['pavel-first']), res);
  t.equal(fuzzy.verdict, 'refuted');
  t.match(fuzzy.reason, /pavel-first patch 2 went in by fuzzy, 1 hunk\(s\) moved or fuzzed/);

  const same = evaluateClaim(series({ samePatch: [first(2), { variant: 'pavel-corrected', patch: 2 }] }, ['pavel-first', 'pavel-corrected']), res);
  t.equal(same.verdict, 'confirmed');
  t.match(same.reason, /have the same patch-id \(222222222222\)/);
  const differ = evaluateClaim(series({ not: { samePatch: [first(1), { variant: 'pavel-corrected', patch: 1 }] } }, ['pavel-first', 'pavel-corrected']), res);
  t.equal(differ.verdict, 'confirmed');
  t.match(differ.reason, /pavel-first patch 1 has patch-id 111111111111, pavel-corrected patch 1 999999999999/);

  const missing = evaluateClaim(series({ applies: first(3), method: 'am' }, ['pavel-first']), res);
  t.equal(missing.verdict, 'inconclusive');
  t.match(missing.reason, /variant pavel-first has 2 patches, no patch 3/);
  delete res['pavel-first']!.applied;
  t.match(evaluateClaim(series({ applies: first(1), method: 'am' }, ['pavel-first']), res).reason, /variant pavel-first has no record of how its patches went in/);
  res['pavel-first'] = { status: 'infra', reason: 'patch 2/2 does not apply' };
  t.equal(evaluateClaim(series({ applies: first(1), method: 'am' }, ['pavel-first']), res).verdict, 'infra-error');
});

t.test('source: a line of the applied tree, read while the variant was checked out', async (t) => {
  const res = results();
  const src = (pattern: string, present = true) => mkClaim({ source: { variant: 'pavel-first' }, path: 'include/linux', pattern, ...(present ? {} : { present }) }, { variants: ['pavel-first'], abis: [], probes: [] });
  res['pavel-first']!.applied = [];
  res['pavel-first']!.sources = { ['include/linux\0PF_FORCE_COMPAT']: { hits: ['include/linux/sched.h:1510: #define PF_FORCE_COMPAT 0x00000400'] }, ['include/linux\0compat_ptr']: { hits: [] } };
  const has = evaluateClaim(src('PF_FORCE_COMPAT'), res);
  t.equal(has.verdict, 'confirmed');
  t.match(has.reason, /pavel-first has "include\/linux\/sched\.h:1510: #define PF_FORCE_COMPAT 0x00000400"/);
  t.same(has.evidence.map((r) => `${r.source} ${r.status} ${r.lines[0]}`), ['include/linux /PF_FORCE_COMPAT/ APPLIED include/linux/sched.h:1510: #define PF_FORCE_COMPAT 0x00000400']);
  t.equal(evaluateClaim(src('PF_FORCE_COMPAT', false), res).verdict, 'refuted');
  const none = evaluateClaim(src('compat_ptr'), res);
  t.equal(none.verdict, 'refuted');
  t.match(none.reason, /no line of include\/linux in pavel-first matches \/compat_ptr\//);
  t.match(evaluateClaim(src('unread'), res).reason, /the tree of pavel-first was not read for \/unread\//, 'a fact nobody read is inconclusive');
  res['pavel-first']!.sources!['include/linux\0gone'] = { error: 'no file of the tree is at include/linux' };
  t.match(evaluateClaim(src('gone'), res).reason, /pavel-first: no file of the tree is at include\/linux/);
});

t.test('rows of the claim\'s other variants are added for comparison, never deciding', async (t) => {
  const res = results();
  const claim = mkClaim({
    all: [
      { case: setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), status: 'FAIL' },
      { same: [setupCase('base', 'compat', 'setup_default'), setupCase('pavel-corrected', 'compat', 'setup_default')] },
    ],
  });
  const e = evaluateClaim(claim, res);
  t.equal(e.verdict, 'confirmed');
  t.same(
    e.evidence.map((r) => `${r.variant} ${r.case} ${r.status}${r.context ? ' context' : ''}`),
    ['pavel-corrected setup_sqpoll FAIL', 'base setup_default PASS', 'pavel-corrected setup_default PASS', 'base setup_sqpoll PASS context'],
  );
  // A comparison row that is skipped does not make the claim inconclusive.
  caseIn(res, 'base', 'io_uring_setup:compat', 'setup_sqpoll').status = 'SKIP';
  t.equal(evaluateClaim(claim, res).verdict, 'confirmed');
  // Nor does one from a variant that failed to build: it is just left out.
  res['base'] = { status: 'infra', reason: 'no' };
  t.notOk(evaluateClaim(mkClaim({ case: setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), status: 'FAIL' }), res).evidence.some((r) => r.context));
});

t.test('same / differ on probes compare the matrix fingerprint', async (t) => {
  const res = results();
  const b = ref('base', 'compat', 'io_uring_setup');
  const pc = ref('pavel-corrected', 'compat', 'io_uring_setup');
  const n32 = ref('pavel-corrected', 'native32', 'io_uring_setup');
  const d = evaluateClaim(mkClaim({ differ: [b, pc] }), res);
  t.equal(d.verdict, 'confirmed');
  t.match(d.reason, /differ: probe PASS vs FAIL, setup_sqpoll PASS vs FAIL/);
  t.equal(evaluateClaim(mkClaim({ same: [b, n32] }), res).verdict, 'confirmed');
  t.equal(evaluateClaim(mkClaim({ same: [pc, n32] }), res).verdict, 'refuted');
});

t.test('all / any / not', async (t) => {
  const res = results();
  const yes = { case: setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), status: 'FAIL' };
  const no = { case: setupCase('pavel-corrected', 'compat', 'setup_default'), status: 'FAIL' };
  t.equal(evaluateClaim(mkClaim({ all: [yes, yes] }), res).verdict, 'confirmed');
  const all = evaluateClaim(mkClaim({ all: [yes, no] }), res);
  t.equal(all.verdict, 'refuted');
  t.match(all.reason, /setup_default is PASS, not FAIL/, 'names the part that failed');
  t.equal(evaluateClaim(mkClaim({ any: [no, yes] }), res).verdict, 'confirmed');
  const any = evaluateClaim(mkClaim({ any: [no, no] }), res);
  t.equal(any.verdict, 'refuted');
  t.match(any.reason, /^none holds: /);
  t.equal(evaluateClaim(mkClaim({ not: no }), res).verdict, 'confirmed');
  t.equal(evaluateClaim(mkClaim({ not: { not: no } }), res).verdict, 'refuted');
  t.equal(evaluateClaim(mkClaim({ all: [yes, no] }), res).evidence.length, 2, 'one evidence row per distinct ref');
});

t.test('SKIP is inconclusive unless the predicate asks for it', async (t) => {
  const res = results();
  const c = caseIn(res, 'pavel-corrected', 'io_uring_readv:compat', 'readv_sqpoll_fixed_file');
  c.status = 'SKIP';
  c.reason = 'SQPOLL needs CAP_SYS_ADMIN before 5.11';
  const r = ref('pavel-corrected', 'compat', 'io_uring_readv', 'readv_sqpoll_fixed_file');
  const e = evaluateClaim(mkClaim({ case: r, status: 'FAIL' }), res);
  t.equal(e.verdict, 'inconclusive');
  t.match(e.reason, /readv_sqpoll_fixed_file is SKIP \(SQPOLL needs CAP_SYS_ADMIN before 5\.11\)/);
  t.equal(e.evidence[0]!.reason, 'SQPOLL needs CAP_SYS_ADMIN before 5.11');
  t.equal(evaluateClaim(mkClaim({ not: { case: r, status: 'PASS' } }), res).verdict, 'inconclusive', 'negation does not hide a skip');
  t.equal(evaluateClaim(mkClaim({ case: r, status: 'SKIP' }), res).verdict, 'confirmed', 'explicitly asked for');
  t.equal(evaluateClaim(mkClaim({ case: r, status: 'SKIP', diagnostic: 'cap_sys_admin' }), res).verdict, 'confirmed', 'the regex sees the skip reason');

  // A whole probe skipped: a case predicate asking for SKIP still decides; a probe one does too.
  const p = probeIn(res, 'base', 'io_uring_setup:native32');
  p.status = 'SKIP';
  p.cases.forEach((x) => {
    x.status = 'SKIP';
    x.reason = 'no io_uring (ENOSYS)';
  });
  const sc = setupCase('base', 'native32', 'setup_default');
  t.equal(evaluateClaim(mkClaim({ case: sc, status: 'SKIP' }), res).verdict, 'confirmed');
  t.equal(evaluateClaim(mkClaim({ probe: ref('base', 'native32', 'io_uring_setup'), status: 'SKIP' }), res).verdict, 'confirmed');
  const cmp = evaluateClaim(mkClaim({ same: [sc, setupCase('base', 'compat', 'setup_default')] }), res);
  t.equal(cmp.verdict, 'inconclusive');
  t.match(cmp.reason, /base io_uring_setup:native32 is SKIP/);
});

t.test('a case skipped on one side only makes a probe comparison inconclusive', async (t) => {
  const res = results();
  const c = caseIn(res, 'pavel-corrected', 'readv_writev:compat', 'uio_maxiov');
  c.status = 'SKIP';
  const e = evaluateClaim(mkClaim({ same: [ref('base', 'compat', 'readv_writev'), ref('pavel-corrected', 'compat', 'readv_writev')] }), res);
  t.equal(e.verdict, 'inconclusive');
  t.match(e.reason, /case uio_maxiov is PASS in base readv_writev:compat but SKIP in pavel-corrected readv_writev:compat/);
});

t.test('missing probes, cases and variants are inconclusive', async (t) => {
  const res = results();
  const r = res['pavel-corrected']!.result!;
  r.probes = r.probes.filter((p) => p.abi !== 'native32');
  const claim = mkClaim({ differ: [setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), setupCase('pavel-corrected', 'native32', 'setup_sqpoll')] });
  const e = evaluateClaim(claim, res);
  t.equal(e.verdict, 'inconclusive');
  t.match(e.reason, /pavel-corrected io_uring_setup:native32 is missing from the results/);
  t.equal(e.evidence[1]!.status, 'MISSING');

  const nocase = evaluateClaim(mkClaim({ case: setupCase('base', 'compat', 'setup_huge'), status: 'PASS' }), res);
  t.equal(nocase.verdict, 'inconclusive');
  t.match(nocase.reason, /has no case setup_huge \(cases: setup_default, setup_sqpoll, setup_zero_entries, sqpoll_unprivileged\)/);

  const notRun = evaluateClaim(mkClaim({ case: setupCase('demo', 'compat', 'setup_default'), status: 'PASS' }), res);
  t.equal(notRun.verdict, 'inconclusive');
  t.match(notRun.reason, /variant demo was not run/);
});

t.test('TIMEOUT, CRASHED and kernel findings are inconclusive unless asked for', async (t) => {
  const res = results();
  const p = probeIn(res, 'pavel-first', 'io_uring_readv:compat');
  p.status = 'TIMEOUT';
  p.reason = 'killed after 60 s';
  const e = evaluateClaim(mkClaim({ case: ref('pavel-first', 'compat', 'io_uring_readv', 'readv_inline_plain_fd'), status: 'FAIL' }), res);
  t.equal(e.verdict, 'inconclusive');
  t.match(e.reason, /pavel-first io_uring_readv:compat is TIMEOUT \(killed after 60 s\)/);
  t.equal(evaluateClaim(mkClaim({ probe: ref('pavel-first', 'compat', 'io_uring_readv'), status: 'TIMEOUT' }), res).verdict, 'confirmed');

  const q = probeIn(res, 'pavel-corrected', 'io_uring_setup:compat');
  q.findings.push({ kind: 'warning', line: 812, text: 'WARNING: CPU: 0 PID: 71 at io_uring/io_uring.c:3830 io_uring_setup+0x1c/0x40', probe: q.id });
  const w = evaluateClaim(mkClaim({ case: setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), status: 'FAIL' }), res);
  t.equal(w.verdict, 'inconclusive', 'a kernel warning during the probe: not decided even though the case looks right');
  t.match(w.reason, /has kernel findings: warning at console line 812: WARNING: CPU: 0/);
  t.match(w.evidence[0]!.findings[0]!, /^warning at console line 812: /);

  q.status = 'CRASHED';
  const asked = evaluateClaim(mkClaim({ probe: ref('pavel-corrected', 'compat', 'io_uring_setup'), status: 'CRASHED' }), res);
  t.equal(asked.verdict, 'confirmed', 'a claim that the kernel crashes is decided by the crash');
  t.equal(evaluateClaim(mkClaim({ probe: ref('pavel-corrected', 'compat', 'io_uring_setup'), status: 'FAIL' }), res).verdict, 'inconclusive');
});

t.test('flaky probes and disagreeing repeats are inconclusive', async (t) => {
  const res = results();
  const claim = mkClaim({ case: setupCase('pavel-corrected', 'compat', 'setup_sqpoll'), status: 'FAIL' });
  t.equal(flakyKey({ variant: 'pavel-corrected', abi: 'compat', probe: 'io_uring_setup' }), 'pavel-corrected/compat/io_uring_setup');
  const e = evaluateClaim(claim, res, { flaky: new Set(['pavel-corrected/compat/io_uring_setup']) });
  t.equal(e.verdict, 'inconclusive');
  t.match(e.reason, /pavel-corrected io_uring_setup:compat is marked flaky/);
  t.equal(evaluateClaim(claim, res, { flaky: new Set(['pavel-corrected/native32/io_uring_setup']) }).verdict, 'confirmed', 'other probes do not matter');

  const again = structuredClone(probeIn(res, 'pavel-corrected', 'io_uring_setup:compat'));
  again.status = 'PASS';
  again.cases.forEach((c) => (c.status = 'PASS'));
  res['pavel-corrected']!.result!.probes.push(again);
  const twice = evaluateClaim(claim, res);
  t.equal(twice.verdict, 'inconclusive');
  t.match(twice.reason, /ran 2 times with different results/);
});

t.test('an infrastructure failure of a referenced variant is infra-error, whatever else', async (t) => {
  const res = results();
  res['pavel-first'] = { status: 'infra', reason: 'i386 build failed: gcc not found' };
  const r = res['base']!.result!;
  r.probes = r.probes.filter((p) => p.id !== 'readv_writev:compat');
  const claims = await loadFixtureClaims();
  const e = evaluateClaims(claims, res);
  const readv = e.find((x) => x.id === 'readv-untouched')!;
  t.equal(readv.verdict, 'infra-error', 'infra wins over a missing probe');
  t.match(readv.reason, /variant pavel-first: i386 build failed: gcc not found/);
  t.equal(readv.unexpected, undefined);
  t.equal(readv.evidence.find((x) => x.variant === 'pavel-first')!.status, 'INFRA');
  const first = e.find((x) => x.id === 'first-diff-refuses-every-compat-ring')!;
  t.equal(first.verdict, 'infra-error');
  t.equal(first.unexpected, undefined, 'no expectation verdict when undecided');
  t.equal(e.find((x) => x.id === 'compat-differs-from-native32')!.verdict, 'confirmed', 'claims not using it are unaffected');
});

t.test("one arch's kernel failing makes only its ABIs infra-errors: the other kernel's results decide", async (t) => {
  const res = results();
  res['pavel-corrected']!.failedAbis = { native32: 'the i386 kernel: kernel build failed (make exit 2)' };
  const claims = await loadFixtureClaims();
  const e = evaluateClaims(claims, res);
  const n32 = e.find((x) => x.id === 'compat-differs-from-native32')!;
  t.equal(n32.verdict, 'infra-error', 'a claim asking native32 of that variant cannot be decided');
  t.match(n32.reason, /variant pavel-corrected, native32: the i386 kernel: kernel build failed/);
  const row = n32.evidence.find((x) => x.variant === 'pavel-corrected' && x.abi === 'native32')!;
  t.equal(row.status, 'INFRA');
  t.match(row.reason, /i386 kernel/);
  t.equal(e.find((x) => x.id === 'corrected-sqpoll-only')!.verdict, 'confirmed', 'its compat and native64 results still decide');
});

t.test('deciding lines: regex, then errno, then ret=, then the last lines', async (t) => {
  const diags = ['a: io_uring_setup(entries=8)', 'a: ret=3', 'a: sq_entries=8', 'b: ret=-1 errno=22 EINVAL (Invalid argument)'];
  t.same(claimLines(diags, [/sq_entries/]), ['a: sq_entries=8']);
  t.same(claimLines(diags), ['b: ret=-1 errno=22 EINVAL (Invalid argument)']);
  t.same(claimLines(diags.slice(0, 3)), ['a: ret=3']);
  t.same(claimLines(['1', '2', '3', '4']), ['2', '3', '4']);
});

t.test('the deciding line of a case is the measured value against the expected one, not the first ret= line', async (t) => {
  // uring_read_async of io_uring_evdev:compat on the 5.9.1 base, as its console printed it.
  const diagnostics = [
    'io_uring_setup(4, flags=0x0): fd=5 sq_entries=4 cq_entries=8 features=0x7f',
    'sqe: READ /dev/input/event1 fd=4 flags=0x10 len=96',
    'io_uring_enter(to_submit=1): ret=1',
    'uring_read_async: cqe.res=96 user_data=0xe7de0003 flags=0x0',
    'uring_read_async: ret=96 events=4 record_size=24 (expected 16)',
    'uring_read_async: record 0 as decoded here: type=19 code=11 value=0',
    'type/code/value of the 4 records: compared 32 bytes, first difference at offset 0 (got 0x13, want 0x01), 11 bytes differ',
    'expected 64 bytes: 4 records of 16 bytes',
  ];
  t.equal(claimLines(diagnostics)[0], 'uring_read_async: ret=96 events=4 record_size=24 (expected 16)');
  t.equal(compactLine(claimLines(diagnostics)[0]!, 'uring_read_async'), 'record_size=24 (expected 16)', 'cut to what decides when it is too long');
  t.equal(claimLines(diagnostics.filter((l) => !l.includes('(expected')))[0], diagnostics[6], 'without one: the byte comparison');
  t.equal(claimLines(['x: ret=-1 errno=14 EFAULT (Bad address)', 'expected ret=8000'])[0], 'x: ret=-1 errno=14 EFAULT (Bad address)');
  t.equal(claimLines(diagnostics, [/features=/])[0], diagnostics[0], "the claim's own regex comes first");
});
