// Host-side checks of the guest userland (images/): it builds for both ABIs,
// the probes print well-formed KTAP, and the init's plan runner (in its
// KSERIES_INIT_TESTING variant, an ordinary host program) produces the
// document the console parser expects.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'images');
const ABIS = ['x86_64', 'i386'];

const out = await mkdtemp(join(tmpdir(), 'kseries-images-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

const build = await execa('make', ['-C', IMAGES, `OUT=${out}`, '-j2', 'all', 'testing'], { reject: false });
const probes = (await readdir(join(IMAGES, 'probes'))).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
const initTesting = join(out, 'host', 'init-testing');

/** Check a KTAP v1 document: header, plan, consecutive test points matching the plan. */
function checkKtap(t: Test, text: string, what: string): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  t.equal(lines[0], 'KTAP version 1', `${what}: header first`);
  const plan = lines.find((l) => /^1\.\.\d+$/.test(l));
  t.ok(plan, `${what}: has a plan`);
  const points = lines.filter((l) => /^(not )?ok \d+ /.test(l));
  t.equal(points.length, Number(plan?.slice(3)), `${what}: results match the plan`);
  points.forEach((l, i) => t.match(l, new RegExp(`^(not )?ok ${i + 1} \\S`), `${what}: test point ${i + 1} numbered`));
  for (const l of lines) t.match(l, /^(KTAP version 1|1\.\.\d+|(not )?ok \d+ .*|# .*)$/, `${what}: line is KTAP: ${l}`);
  return lines;
}

t.test('make builds init and every probe for both ABIs', async (t) => {
  t.equal(build.exitCode, 0, `make succeeded\n${build.stderr}`);
  const listed = await execa('make', ['-s', '-C', IMAGES, `OUT=${out}`, 'list']);
  t.same(listed.stdout.trim().split(/\s+/).sort(), probes, 'PROBES in the Makefile = probes/*.c');
  for (const abi of ABIS) {
    for (const bin of ['init', ...probes]) {
      await t.resolves(access(join(out, abi, bin)), `${abi}/${bin} exists`);
    }
  }
  const file = await execa('file', [join(out, 'i386', 'init'), join(out, 'x86_64', 'init')], { reject: false });
  if (file.exitCode === 0) {
    t.match(file.stdout, /i386\/init:\s+ELF 32-bit.*statically linked/);
    t.match(file.stdout, /x86_64\/init:\s+ELF 64-bit.*statically linked/);
  }
});

t.test('probes print KTAP and exit 0, 1 or 4 on the host kernel', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  for (const abi of ABIS) {
    for (const probe of probes) {
      const r = await execa(join(out, abi, probe), { reject: false, timeout: 60_000, cwd: out });
      const what = `${abi}/${probe}`;
      t.notOk(r.timedOut, `${what} finished`);
      t.ok([0, 1, 4].includes(r.exitCode ?? -1), `${what} exit status ${r.exitCode}`);
      const lines = checkKtap(t, r.stdout, what);
      if (r.exitCode === 0) t.notOk(lines.some((l) => l.startsWith('not ok')), `${what}: exit 0 means no failures`);
      // Plain vectored I/O on tmpfs must work on any Linux host.
      if (probe === 'readv_writev') t.equal(r.exitCode, 0, `${what} passes\n${r.stdout}`);
    }
  }
});

t.test('init runs a plan and reports each entry as a subtest', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-plan-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const plan = join(dir, 'plan');
  const rows = [
    '# comment',
    ['exec:echo', 5, 0, '/bin/echo', 'hello world'],
    ['exec:sleep', 1, 0, '/bin/sleep', '10'],
    ['readv_writev:native64', 30, 0, join(out, 'x86_64', 'readv_writev')],
    ['exec:exit3', 5, 0, '/bin/sh', '-c', 'echo to-stderr >&2; exit 3'],
    ['exec:segv', 5, 0, '/bin/sh', '-c', 'kill -SEGV $$'],
    ['exec:missing', 5, 0, '/nonexistent/program'],
    ['exec:skip', 5, 0, '/bin/sh', '-c', 'printf "TAP version 13\\n1..1\\nok 1 x # SKIP not here\\n"; exit 4'],
    'not a valid line',
  ];
  await writeFile(plan, rows.map((r) => (typeof r === 'string' ? r : r.join('\t'))).join('\n') + '\n');
  const started = Date.now();
  const r = await execa(initTesting, { env: { KSERIES_PLAN: plan, KSERIES_KMSG: '' }, reject: false, timeout: 60_000 });
  const elapsed = Date.now() - started;
  t.equal(r.exitCode, 0, 'init-testing exits 0');
  t.ok(elapsed < 15_000, `timeout honoured (${elapsed} ms)`);
  const lines = r.stdout.split('\n');
  t.equal(lines[0], '', 'leading newline');
  t.equal(lines[1], 'KTAP version 1');
  t.match(lines[2], /^# kseries-init: uname \S+ \S+$/);
  t.equal(lines[3], '1..8');
  t.equal(lines.filter((l) => l === '    KTAP version 1').length, 8, 'one subtest header per entry');
  const text = r.stdout;
  t.match(text, /    # Subtest: exec:echo\n    # hello world\n    # kseries-init: pid \d+ exit status 0 after [\d.]+ s\nok 1 exec:echo\n/);
  t.match(text, /\nnot ok 2 exec:sleep # TIMEOUT after 1 s\n/);
  t.match(text, /    # Subtest: readv_writev:native64\n    1\.\.\d+\n(    .*\n)*ok 3 readv_writev:native64\n/);
  t.match(text, /    # to-stderr\n.*\nnot ok 4 exec:exit3 # exit status 3\n/);
  t.match(text, /\nnot ok 5 exec:segv # killed by signal 11 \(SIGSEGV\)\n/);
  t.match(text, /\nnot ok 6 exec:missing # exec failed: No such file or directory\n/);
  t.match(text, /    1\.\.1\n    ok 1 x # SKIP not here\n.*\nok 7 exec:skip # SKIP not here\n/);
  t.notMatch(text, /    TAP version 13/, "the child's own version line is swallowed");
  t.match(text, /\nnot ok 8 not a valid line # bad plan entry: /);
  t.equal(lines.at(-1), '# kseries-init: done', 'done last (execa strips the final newline)');
  // Every non-empty line is TAP at a multiple of 4 spaces: nothing the
  // console parser would have to throw away.
  for (const l of lines.slice(1).filter((l) => l !== '')) {
    t.match(l, /^(    )*(KTAP version 1|1\.\.\d+( # .*)?|(not )?ok \d+ .*|#( .*)?)$/, `TAP line: ${l}`);
  }
});

t.test('init bails out without a plan', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  const missing = join(out, 'no-such-plan');
  const r = await execa(initTesting, { env: { KSERIES_PLAN: missing, KSERIES_KMSG: '' }, reject: false, timeout: 10_000 });
  t.equal(r.exitCode, 1);
  t.match(r.stdout, new RegExp(`\\nKTAP version 1\\n.*\\nBail out! no ${missing}$`));
});
