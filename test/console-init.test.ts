// The guest init (images/init.c, host-runnable test build) and the console
// parser together: an --exec whose own TAP says "not ok" but which exits 0.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeFor, parseConsole } from '../harness/console/parse-console.ts';
import { ExitCode } from '../harness/model/results.ts';

const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'images');
const out = await mkdtemp(join(tmpdir(), 'kseries-console-init-'));
t.teardown(() => rm(out, { recursive: true, force: true }));
const build = await execa('make', ['-C', IMAGES, `OUT=${out}`, 'testing'], { reject: false });

/** Run the init over plan entries (id, shell script), return its console text. */
async function runInit(t: Test, entries: [string, string][]): Promise<string> {
  const plan = join(out, 'plan');
  await writeFile(plan, entries.map(([id, sh]) => `${id}\t10\t0\t/bin/sh\t-c\t${sh}\n`).join(''));
  const r = await execa(join(out, 'host', 'init-testing'), { env: { KSERIES_PLAN: plan, KSERIES_KMSG: '' }, reject: false, timeout: 60_000 });
  t.equal(r.exitCode, 0, 'init ran its plan');
  return r.stdout;
}

t.test('a child whose TAP has "not ok" at any depth but exits 0 is not ok on the init\'s own line', async (t) => {
  t.equal(build.exitCode, 0, `make testing\n${build.stderr}`);
  const text = await runInit(t, [
    ['exec:flat', "printf 'TAP version 13\\n1..2\\nok 1 a\\nnot ok 2 b # exit=1\\n'"],
    ['exec:kselftest', "printf 'TAP version 13\\n1..1\\n# selftests: x: y\\n# TAP version 13\\n# 1..2\\n# ok 1 first\\n# not ok 2 second\\nok 1 selftests: x: y\\n'"],
    ['exec:deep', "printf 'KTAP version 1\\n1..1\\n    KTAP version 1\\n    # Subtest: s\\n    1..1\\n    not ok 1 inner\\nok 1 s\\n'"],
    ['exec:excused', "printf '1..3\\nnot ok 1 a # SKIP no device\\nnot ok 2 b # TODO later\\nok 3 # XFAIL known\\n'"],
    ['exec:skipped', "printf '1..0 # SKIP no device\\n# not ok 1 z\\n'; exit 4"],
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
