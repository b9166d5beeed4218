// The guest init (images/init.c, host-runnable test build) and the console
// parser together: an --exec whose own TAP says "not ok" but which exits 0;
// an entry's working directory; kernel log records placed in time.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeFor, parseConsole } from '../harness/console/parse-console.ts';
import { formatPlan, type PlanEntry } from '../harness/image/init-plan.ts';
import { ExitCode } from '../harness/model/results.ts';

const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'images');
const out = await mkdtemp(join(tmpdir(), 'kseries-console-init-'));
t.teardown(() => rm(out, { recursive: true, force: true }));
const build = await execa('make', ['-C', IMAGES, `OUT=${out}`, 'testing'], { reject: false });

/** A plan entry running a shell script. */
const sh = (id: string, script: string, more: Partial<PlanEntry> = {}): PlanEntry => ({ id, timeoutSec: 10, uid: 0, argv: ['/bin/sh', '-c', script], ...more });

/** Run the init over plan entries (written by formatPlan, as the harness does), return its console text. */
async function runInit(t: Test, entries: PlanEntry[]): Promise<string> {
  const plan = join(out, 'plan');
  await writeFile(plan, formatPlan(entries));
  const r = await execa(join(out, 'host', 'init-testing'), { env: { KSERIES_PLAN: plan, KSERIES_KMSG: '' }, reject: false, timeout: 60_000 });
  t.equal(r.exitCode, 0, 'init ran its plan');
  return r.stdout;
}

t.test('a child whose TAP has "not ok" at any depth but exits 0 is not ok on the init\'s own line', async (t) => {
  t.equal(build.exitCode, 0, `make testing\n${build.stderr}`);
  const text = await runInit(t, [
    sh('exec:flat', "printf 'TAP version 13\\n1..2\\nok 1 a\\nnot ok 2 b # exit=1\\n'"),
    sh('exec:kselftest', "printf 'TAP version 13\\n1..1\\n# selftests: x: y\\n# TAP version 13\\n# 1..2\\n# ok 1 first\\n# not ok 2 second\\nok 1 selftests: x: y\\n'"),
    sh('exec:deep', "printf 'KTAP version 1\\n1..1\\n    KTAP version 1\\n    # Subtest: s\\n    1..1\\n    not ok 1 inner\\nok 1 s\\n'"),
    sh('exec:excused', "printf '1..3\\nnot ok 1 a # SKIP no device\\nnot ok 2 b # TODO later\\nok 3 # XFAIL known\\n'"),
    sh('exec:skipped', "printf '1..0 # SKIP no device\\n# not ok 1 z\\n'; exit 4"),
  ]);
  const lines = text.split('\n');
  t.ok(lines.includes('not ok 1 exec:flat # exit status 0 but its TAP has: not ok 2 b'), 'directive cut from the quote');
  t.ok(lines.includes('not ok 2 exec:kselftest # exit status 0 but its TAP has: not ok 2 second'), 'kselftest "# " nesting');
  t.ok(lines.includes('not ok 3 exec:deep # exit status 0 but its TAP has: not ok 1 inner'), 'indented subtest');
  t.ok(lines.includes('ok 4 exec:excused'), 'SKIP and TODO excuse a not ok');
  t.ok(lines.includes('not ok 5 exec:skipped # exit status 4 but its TAP has: not ok 1 z'), 'a failure is not a skip');

  const r = parseConsole(text);
  t.same(
    r.probes.map((p) => [p.id, p.status]),
    [['exec:flat', 'FAIL'], ['exec:kselftest', 'FAIL'], ['exec:deep', 'FAIL'], ['exec:excused', 'PASS'], ['exec:skipped', 'FAIL']],
  );
  t.same(r.probes[3]?.cases.map((c) => [c.name, c.status, c.reason]), [['a', 'SKIP', 'no device'], ['b', 'SKIP', 'TODO later'], ['#3', 'PASS', 'XFAIL known']]);
  t.equal(exitCodeFor(r), ExitCode.PROBE_FAILED);
});

t.test('an entry runs in its CWD; a CWD it cannot enter fails like an exec', async (t) => {
  t.equal(build.exitCode, 0, `make testing\n${build.stderr}`);
  const missing = join(out, 'no-such-dir');
  const text = await runInit(t, [
    { id: 'exec:pwd', timeoutSec: 10, uid: 0, cwd: '/tmp', argv: ['/bin/pwd'] },
    { id: 'exec:default', timeoutSec: 10, uid: 0, argv: ['/bin/pwd'] },
    { id: 'exec:nodir', timeoutSec: 10, uid: 0, cwd: missing, argv: ['/bin/pwd'] },
  ]);
  t.match(text, /    # Subtest: exec:pwd\n    # \/tmp\n    # kseries-init: pid \d+ exit status 0 after [\d.]+ s\nok 1 exec:pwd\n/, 'pwd printed /tmp, nested');
  t.match(text, /    # Subtest: exec:default\n    # \/\n/, 'no cwd: /');
  t.ok(text.split('\n').includes(`not ok 3 exec:nodir # exec failed: chdir ${missing}: No such file or directory`), 'chdir failure is an exec failure');
});

t.test('kernel log records are printed while the entry runs, between its lines', async (t) => {
  t.equal(build.exitCode, 0, `make testing\n${build.stderr}`);
  const plan = join(out, 'plan-kmsg');
  const kmsg = join(out, 'kmsg');
  await rm(kmsg, { force: true });
  await execa('mkfifo', [kmsg]);
  await writeFile(plan, formatPlan([sh('exec:slow', 'echo before; sleep 0.5; echo after'), sh('exec:next', 'echo still supervised')]));
  const init = execa(join(out, 'host', 'init-testing'), { env: { KSERIES_PLAN: plan, KSERIES_KMSG: kmsg }, reject: false, timeout: 60_000 });
  // Feed the record once the child has printed "before" (it then sleeps).
  // O_NONBLOCK: fail (ENXIO) rather than hang if the init is not reading.
  let seen = '';
  const wrote = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (!seen.includes('    # before\n')) return;
      init.stdout?.off('data', onData);
      open(kmsg, constants.O_WRONLY | constants.O_NONBLOCK)
        .then(async (fh) => {
          await fh.write('6,1,100,-;hello from kmsg\n');
          await fh.close();
        })
        .then(resolve, reject);
    };
    init.stdout?.on('data', onData);
    // Never saw "before": the assertions below say what went wrong.
    init.then(() => resolve(), () => resolve());
  });
  const [r] = await Promise.all([init, wrote]);
  t.equal(r.exitCode, 0, 'init ran its plan');
  const lines = r.stdout.split('\n');
  const at = (l: string) => lines.indexOf(l);
  const k = at('    # kmsg: hello from kmsg');
  const exit = lines.findIndex((l) => /^    # kseries-init: pid \d+ exit status 0 after/.test(l));
  t.ok(k > 0, `the record is printed\n${r.stdout}`);
  t.ok(at('    # before') < k && k < at('    # after'), 'after "before", before "after"');
  t.ok(k < exit && exit < at('ok 1 exec:slow'), "before the entry's exit line");
  t.equal(lines.filter((l) => l.includes('hello from kmsg')).length, 1, 'printed once');
  // The FIFO's writer went away (POLLHUP): the next entry is still supervised.
  t.ok(lines.includes('    # still supervised') && lines.includes('ok 2 exec:next'), 'the next entry runs normally');
  t.equal(lines.at(-1), '# kseries-init: done');
});

t.test('exit 4 without a "# SKIP" directive: the skip is explained by the last thing it said', async (t) => {
  const text = await runInit(t, [
    sh('selftests:timers:rtcpie', "echo 'Default RTC /dev/rtc0 does not exist. Test Skipped!'; exit 4"),
    sh('exec:silent', 'exit 4'),
  ]);
  const lines = text.split('\n');
  t.ok(lines.includes('ok 1 selftests:timers:rtcpie # SKIP Default RTC /dev/rtc0 does not exist. Test Skipped!'));
  t.ok(lines.includes('ok 2 exec:silent # SKIP exit status 4 (skip)'));
  const r = parseConsole(text);
  t.same(r.probes.map((p) => [p.status, p.reason]), [['SKIP', 'Default RTC /dev/rtc0 does not exist. Test Skipped!'], ['SKIP', 'exit status 4 (skip)']]);
});
