// kselftest as kseries plans it: the install's test list and settings, one
// plan entry per test (cwd, timeout), the fragments, and a real build of a
// small target from a synthetic selftests tree (make headers + install).
import t from 'tap';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings, parseTestList, selftestPlan, testTimeout, KSELFTEST_DEFAULT_TIMEOUT_SEC } from '../harness/selftests/plan.ts';
import { checkTargets, targetFragments } from '../harness/selftests/build.ts';
import { selftestFragments, SELFTESTS_VM } from '../harness/selftests/defaults.ts';
import { judgeVacuous } from '../harness/console/ktap.ts';
import { formatPlan } from '../harness/image/init-plan.ts';
import type { ProbeResult } from '../harness/model/results.ts';
import { KseriesError } from '../harness/util/errors.ts';

t.test('kselftest-list.txt and settings, as runner.sh reads them', async (t) => {
  t.same(parseTestList('x86:sigreturn_64\n\ntimers:posix_timers\nbad-line\n:x\ncore:close_range_test\n'), [
    { collection: 'x86', test: 'sigreturn_64' },
    { collection: 'timers', test: 'posix_timers' },
    { collection: 'core', test: 'close_range_test' },
  ]);
  t.same(parseSettings('timeout=0\n'), { timeoutSec: 0 });
  t.same(parseSettings('# comment\ntimeout=120\nother=1\n'), { timeoutSec: 120 });
  t.same(parseSettings(''), {});
});

t.test('one plan entry per test: its directory, its collection\'s timeout, 0 = the cap', async (t) => {
  const cases = parseTestList('x86:sigreturn_64\ntimers:posix_timers\n');
  const o = { timeouts: new Map([['timers', 0]]), maxTimeoutSec: 300 };
  const plan = selftestPlan(cases, o);
  t.same(plan, [
    { id: 'selftests:x86:sigreturn_64', timeoutSec: KSELFTEST_DEFAULT_TIMEOUT_SEC, uid: 0, cwd: '/kselftest/x86', argv: ['/kselftest/x86/sigreturn_64'] },
    { id: 'selftests:timers:posix_timers', timeoutSec: 300, uid: 0, cwd: '/kselftest/timers', argv: ['/kselftest/timers/posix_timers'] },
  ]);
  t.equal(testTimeout('x86', { timeouts: new Map([['x86', 900]]), maxTimeoutSec: 300 }), 300, 'capped');
  t.match(formatPlan(plan), /selftests:timers:posix_timers\t300\t0\t\/kselftest\/timers\t\/kselftest\/timers\/posix_timers/);
});

t.test("fragments: kseries' common one, its per-target ones, the tree's own", async (t) => {
  const f = selftestFragments(['x86', 'timers']);
  t.match(f[0], /patches\/selftests\/common\.config$/);
  const common = await readFile(f[0]!, 'utf8');
  for (const o of ['CONFIG_SMP=y', 'CONFIG_POSIX_TIMERS=y', 'CONFIG_MODIFY_LDT_SYSCALL=y', 'CONFIG_X86_IOPL_IOPERM=y', 'CONFIG_SECCOMP=y']) t.match(common, o);
  t.same(SELFTESTS_VM, { smp: 2, cpu: 'max,-smap' });
  const tree = await mkdtemp(join(tmpdir(), 'kseries-st-'));
  t.teardown(() => rm(tree, { recursive: true, force: true }));
  const st = join(tree, 'tools/testing/selftests');
  await mkdir(join(st, 'withconf'), { recursive: true });
  await mkdir(join(st, 'noconf'), { recursive: true });
  await writeFile(join(st, 'Makefile'), 'all:\n');
  await writeFile(join(st, 'withconf/Makefile'), 'all:\n');
  await writeFile(join(st, 'noconf/Makefile'), 'all:\n');
  await writeFile(join(st, 'withconf/config'), 'CONFIG_FOO=y\n');
  t.same(targetFragments(tree, ['withconf', 'noconf']), [join(st, 'withconf/config')]);
  t.doesNotThrow(() => checkTargets(tree, ['withconf', 'noconf']));
  t.throws(() => checkTargets(tree, ['nosuch', 'withconf']), { message: 'no kselftest target nosuch in tools/testing/selftests (a target is a directory there with a Makefile)' });
  t.throws(() => checkTargets(tree, ['../../x']), KseriesError);
});

const result = (over: Partial<ProbeResult>): ProbeResult => ({ id: 'selftests:x86:t', probe: 'selftests:x86:t', abi: 'x86_64', status: 'PASS', cases: [], diagnostics: [], kmsg: [], findings: [], ...over });

t.test('vacuous passes: skips by the test\'s own word, notes otherwise', async (t) => {
  t.match(judgeVacuous(result({}), 'no AMX'), { status: 'SKIP', reason: 'plan 1..0: no AMX' });
  t.match(judgeVacuous(result({ cases: [{ name: 'a', status: 'SKIP', reason: 'no vsyscall', diagnostics: [] }] })), { status: 'SKIP', reason: 'every case skipped: no vsyscall' });
  t.match(judgeVacuous(result({ diagnostics: ['[RUN]\tfoo', '[SKIP]\tvsyscall is off'] })), { status: 'SKIP', reason: 'exit 0, but it only skipped: [SKIP]\tvsyscall is off' });
  t.match(judgeVacuous(result({ diagnostics: ['[OK]\tone', '[SKIP]\ttwo'] })), { status: 'PASS', reason: 'passed, but printed: [SKIP]\ttwo' });
  t.match(judgeVacuous(result({ diagnostics: ['clock 5 not supported'] })), { status: 'PASS', reason: 'passed, but printed: clock 5 not supported' });
  t.same(judgeVacuous(result({ diagnostics: ['[OK]\tall good'] })), result({ diagnostics: ['[OK]\tall good'] }));
  t.same(judgeVacuous(result({ status: 'FAIL', diagnostics: ['[SKIP] x'] })).status, 'FAIL', 'only passes are judged');
  t.same(judgeVacuous(result({ cases: [{ name: 'a', status: 'PASS', diagnostics: [] }, { name: 'b', status: 'SKIP', diagnostics: [] }] })).status, 'PASS');
});

t.test('a synthetic kselftest tree builds and installs through the real make', async (t) => {
  const { buildSelftests } = await import('../harness/selftests/build.ts');
  const { CacheStore } = await import('../harness/cache/store.ts');
  const { X86_64 } = await import('../harness/model/arch.ts');
  const tree = await mkdtemp(join(tmpdir(), 'kseries-st-build-'));
  t.teardown(() => rm(tree, { recursive: true, force: true }));
  // A stand-in for the kernel: `make O=... headers` writes usr/include; the selftests Makefile installs like kselftest's.
  await writeFile(join(tree, 'Makefile'), 'headers:\n\tmkdir -p $(O)/usr/include && touch $(O)/usr/include/ok.h\n');
  const st = join(tree, 'tools/testing/selftests');
  await mkdir(join(st, 'hello'), { recursive: true });
  await writeFile(join(st, 'hello/hello.c'), '#include <stdio.h>\nint main(void) { puts("[OK]\\thello"); return 0; }\n');
  await writeFile(join(st, 'hello/settings'), 'timeout=7\n');
  await writeFile(join(st, 'hello/Makefile'), [
    'all: $(OUTPUT)/hello',
    '$(OUTPUT)/hello: hello.c', '\tmkdir -p $(OUTPUT) && $(CC) -o $@ $<',
    'install: all', '\tmkdir -p $(INSTALL_PATH) && cp $(OUTPUT)/hello settings $(INSTALL_PATH)/',
    'emit_tests:', '\t@echo "$(COLLECTION):hello"', '',
  ].join('\n'));
  await writeFile(join(st, 'Makefile'), [
    'install:',
    '\tmkdir -p $(KSFT_INSTALL_PATH)',
    '\tfor T in $(TARGETS); do $(MAKE) -C $$T OUTPUT=$(O)/kselftest/$$T INSTALL_PATH=$(KSFT_INSTALL_PATH)/$$T install || exit 1; done',
    '\tfor T in $(TARGETS); do $(MAKE) -s --no-print-directory -C $$T COLLECTION=$$T emit_tests >> $(KSFT_INSTALL_PATH)/kselftest-list.txt; done', '',
  ].join('\n'));
  const cache = await mkdtemp(join(tmpdir(), 'kseries-st-cache-'));
  t.teardown(() => rm(cache, { recursive: true, force: true }));
  const store = new CacheStore(cache);
  const req = { srcDir: tree, sourceIdentity: 'synthetic', arch: X86_64, targets: ['hello'], compiler: 'gcc', store, jobs: 1, logPath: join(cache, 'st.log') };
  const b = await buildSelftests(req);
  t.equal(b.cacheHit, false);
  t.same(b.cases, [{ collection: 'hello', test: 'hello' }]);
  t.same([...b.timeouts], [['hello', 7]]);
  t.equal((await execa(join(b.installDir, 'hello/hello'))).stdout, '[OK]\thello', 'the installed test runs');
  t.equal((await buildSelftests(req)).cacheHit, true, 'the same tree and targets: a cache hit');
  await t.rejects(buildSelftests({ ...req, targets: ['hello', 'gone'] }), { message: /kselftest build failed/ }, 'a target that does not build is named');
});

t.test('a program without a plan is not a "1..0" skip; a real "1..0 # SKIP" is', async (t) => {
  const { parseConsole } = await import('../harness/console/parse-console.ts');
  const doc = (body: string[]) => ['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: selftests:x86:t', ...body, 'ok 1 selftests:x86:t', '# kseries-init: done'].join('\n');
  const plain = parseConsole(doc(['    # [RUN]\tsomething', '    # [OK]\tit worked']));
  t.equal(plain.probes[0]!.status, 'PASS');
  const skipped = parseConsole(doc(['    1..0 # SKIP no AMX here']));
  t.match(skipped.probes[0], { status: 'SKIP', reason: 'plan 1..0: no AMX here' });
});

t.test('--test picks tests as run_kselftest.sh -t does, with globs; a pattern that matches nothing is named', async (t) => {
  const { selectCases } = await import('../harness/selftests/plan.ts');
  const cases = parseTestList('x86:sigreturn_32\nx86:sigreturn_64\ntimers:posix_timers\ntimers:raw_skew\n');
  t.same(selectCases(cases, []).cases.length, 4);
  t.same(selectCases(cases, ['x86:*_64', 'timers:posix_timers']), { cases: [cases[1], cases[2]], unmatched: [] });
  t.same(selectCases(cases, ['x86:sig?eturn_32', 'core:*']).unmatched, ['core:*']);
  t.same(selectCases(cases, ['x86:sigreturn.32']).cases, [], 'a dot is a dot');
});
