// End to end, what reviewers run in the guest: kselftest targets built from
// the default tree (kseries selftests), a dynamically linked i386 reproducer
// as it would be posted, and a shell command line. Real builds and boots:
// the selftests kernel is one more cached config; the rest reuses the
// default kernel the other e2e tests build.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const cacheArgs = process.env.KSERIES_CACHE ? ['--cache', process.env.KSERIES_CACHE] : [];
const kseries = (args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, all: true, env: { FORCE_COLOR: '0' } });
const runDir = () => mkdtemp(join(tmpdir(), 'kseries-e2e-guest-'));

interface Row {
  id: string;
  abi: string;
  status: string;
  reason?: string;
  cases: { name: string; status: string }[];
  diagnostics: string[];
  kmsg: string[];
}
interface ResultsJson {
  status: string;
  exitCode: number;
  probes: Row[];
}

t.test('a dynamically linked i386 reproducer and a shell command, through --add/--exec', async (t) => {
  const out = await runDir();
  const repro = join(out, 'repro');
  await execa('gcc', ['-m32', '-O2', '-o', repro, join(repo, 'test/fixtures/repro/compat-readv.c')]);
  t.match((await execa('readelf', ['-lh', repro])).stdout, /Class:\s+ELF32[\s\S]*Requesting program interpreter: \/lib\/ld-linux\.so\.2/, 'the reproducer is i386 and dynamic, as posted ones are');
  const r = await kseries([
    'run', ...cacheArgs, '--out', out, '--probe', 'readv_writev', '--abi', 'compat',
    '--add', repro, '--exec', 'repro',
    '--exec', `sh -c 'echo to-stdout > /dev/stdout; ls /dev/fd/1 && test -d /dev/pts && echo pts-mounted'`,
    '--json', '-',
  ]);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultsJson;
  t.same(res.probes.map((p) => `${p.id}=${p.status}`), ['readv_writev:compat=PASS', 'exec:repro=PASS', 'exec:sh=PASS']);
  const [, rp, sh] = res.probes;
  t.ok(rp!.diagnostics.some((d) => d.includes("readv returned 8: 'abc' 'defgh' (32-bit pointers)")), "the reproducer's own output, from a 32-bit process");
  t.match(r.stderr, /guest: \+ .*\/lib32\/libc\.so\.6.* for --add /, 'its libraries went in, and the log says so');
  t.match(r.stderr, /guest shell: \/bin\/busybox \(\d+ applets\) for --exec 'sh -c/, 'the shell went in because the command needed it');
  t.ok(sh!.diagnostics.includes('to-stdout'), '/dev/stdout works');
  t.ok(sh!.diagnostics.includes('pts-mounted'), 'devpts is mounted when the kernel has it');
});

t.test('kseries selftests x86 timers: built from the tree, one nested result per test, skips as the tests say', async (t) => {
  const out = await runDir();
  // Every x86 test; of timers, the quick ones (raw_skew alone takes 2 minutes on TCG), and rtcpie, which has no RTC here.
  const pick = ['x86:*', 'timers:posix_timers', 'timers:nanosleep', 'timers:mqueue-lat', 'timers:rtcpie'].flatMap((p) => ['--test', p]);
  const r = await kseries(['selftests', 'x86', 'timers', ...pick, ...cacheArgs, '--out', out, '--json', '-']);
  t.ok(r.exitCode === 0 || r.exitCode === 1, `results, not an error: ${r.stderr.split('\n').slice(-3).join(' | ')}`);
  const res = JSON.parse(r.stdout) as ResultsJson;
  const list = (await readFile(join(out, 'plan'), 'utf8')).split('\n').filter((l) => l.startsWith('selftests:'));
  t.equal(res.probes.length, list.length, 'a result for every planned test');
  t.ok(res.probes.length >= 44 + 4, `x86's _32 and _64 programs and the timers tests picked (${res.probes.length})`);
  t.notOk(res.probes.some((p) => p.id === 'selftests:timers:raw_skew'), '--test left raw_skew out');
  t.ok(res.probes.every((p) => p.id.startsWith('selftests:') && p.abi === 'x86_64'));
  const ids = new Set(res.probes.map((p) => p.id));
  for (const id of ['selftests:x86:sigreturn_32', 'selftests:x86:sigreturn_64', 'selftests:timers:posix_timers']) t.ok(ids.has(id), id);
  const by = (id: string) => res.probes.find((p) => p.id === id)!;
  const console = await readFile(join(out, 'console.log'), 'utf8');
  // Nested: a kselftest.h test's own KTAP comes back as cases.
  t.ok(by('selftests:timers:nanosleep').cases.length >= 10, "nanosleep's own KTAP (a case per clock) is nested");
  t.equal(by('selftests:x86:sigreturn_64').status, 'PASS');
  // No vacuous pass: a PASS that printed only [SKIP] lines would be a SKIP by now.
  for (const p of res.probes.filter((x) => x.status === 'PASS' && x.cases.length === 0)) {
    const said = p.diagnostics.map((d) => d.trim());
    if (said.some((d) => d.startsWith('[SKIP]'))) t.ok(said.some((d) => /^\[(OK|PASS)\]/.test(d)) || /passed, but printed/.test(p.reason ?? ''), `${p.id}: its [SKIP] is visible or it also ran checks`);
  }
  t.match(by('selftests:timers:rtcpie'), { status: 'SKIP', reason: /rtc0 does not exist/ }, 'no RTC here: a SKIP, in its own words');
  t.match(by('selftests:x86:entry_from_vm86_32'), { status: 'PASS', reason: /passed, but printed: \[SKIP\] vm86 not supported/ }, 'a pass that also skipped says so');
  // Two CPUs: ACPI's MADT finds them, so the tests that pin to CPU 1 can.
  t.notOk(by('selftests:x86:ldt_gdt_64').reason?.includes('affinity'), `ldt_gdt_64 could use CPU 1: ${by('selftests:x86:ldt_gdt_64').reason}`);
  t.match(console, /smpboot: Allowing 2 CPUs/);
  for (const p of res.probes.filter((x) => x.status === 'SKIP')) t.ok(p.reason && p.reason.length > 0, `${p.id} says why it skipped`);
  t.match(console, /# Subtest: selftests:timers:posix_timers/);
});

t.test("kselftest's own runner runs in the guest too, through the shell", async (t) => {
  const out = await runDir();
  const r = await kseries(['selftests', 'core', ...cacheArgs, '--exec', '/kselftest/run_kselftest.sh -c core', '--out', out, '--json', '-']);
  t.equal(r.exitCode, 0, r.stderr.split('\n').slice(-3).join(' | '));
  const res = JSON.parse(r.stdout) as ResultsJson;
  t.same(res.probes.map((p) => `${p.id}=${p.status}`), ['selftests:core:close_range_test=PASS', 'exec:run_kselftest.sh=PASS']);
  const runner = res.probes[1]!;
  t.same(runner.cases.map((c) => [c.name, c.status]), [['selftests: core: close_range_test', 'PASS']], "the runner's TAP: one test, ok");
  t.ok(runner.kmsg.includes('kselftest: Running tests in core'), 'its /dev/kmsg line is under it');
});
