// Host-side checks of the guest userland (images/): it builds for both ABIs,
// the probes print well-formed KTAP, and the init's plan runner (in its
// KSERIES_INIT_TESTING variant, an ordinary host program) produces the
// document the console parser expects.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { access, chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readExecFormat } from '../harness/image/exec-format.ts';

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
  // x32 binaries cannot run on most hosts (no x32 syscalls): check what they are, not what they do.
  for (const bin of probes) {
    const f = await readExecFormat(join(out, 'x32', bin));
    t.same(f, { kind: 'elf', bits: 32, machine: 62 }, `x32/${bin}: a 32-bit ELF for x86-64 (EM_X86_64), static`);
  }
});

/**
 * The case names of every probe, in order. The harness, reports and claim
 * checkers refer to them, so renaming one is a deliberate change here too.
 */
const CASES: Record<string, string[]> = {
  readv_writev: ['create_file', 'writev', 'readv', 'readv_eof', 'pwritev_preadv', 'iovcnt_zero', 'uio_maxiov', 'uio_maxiov_plus_one', 'bad_iov_base'],
  io_uring_setup: ['setup_default', 'setup_sqpoll', 'setup_zero_entries', 'sqpoll_unprivileged'],
  io_uring_readv: ['readv_inline_plain_fd', 'readv_inline_fixed_file', 'readv_sqpoll_fixed_file'],
  preadv_pwritev: ['create_file', 'pwritev_raw_split', 'preadv_raw_split', 'pwritev_libc', 'preadv_libc', 'preadv_negative_offset', 'file_position_unchanged'],
  preadv2_pwritev2: [
    'create_file', 'preadv2_offset_minus1', 'pwritev2_offset_minus1', 'preadv2_offset_minus2', 'pwritev2_preadv2_high_offset',
    'pwritev2_hipri', 'preadv2_hipri', 'preadv2_nowait', 'preadv2_unknown_flag', 'preadv2_libc_offset_minus1',
  ],
  vmsplice: ['pipe', 'vmsplice_two_iovecs', 'vmsplice_many_iovecs', 'vmsplice_to_user', 'vmsplice_bad_iov_array'],
  process_vm: ['fork_child', 'process_vm_readv', 'process_vm_readv_partial', 'process_vm_writev', 'process_vm_bad_args', 'child_exit'],
  keyctl_iov: [
    'valid_iov_eperm', 'bad_iov_array_efault', 'len_max_minus_one_eperm', 'len_max_einval', 'too_many_iovecs_einval', 'null_iov_eperm',
    'negative_len_einval',
  ],
  sendmsg_recvmsg: [
    'socketpairs', 'stream_sendmsg_recvmsg', 'dgram_sendmsg_recvmsg', 'dgram_truncated', 'sendmsg_too_many_iovecs', 'sendmsg_bad_iov',
    'sendmmsg_recvmmsg',
  ],
  io_submit: ['io_setup', 'pwritev', 'preadv', 'preadv_many_iovecs', 'two_iocbs_one_submit', 'preadv_bad_iovec_array', 'preadv_too_many_iovecs'],
  io_uring_rw: [
    'readv_inline', 'readv_async', 'readv_sqpoll', 'writev_inline', 'writev_async', 'writev_sqpoll',
    'read_inline', 'read_async', 'read_sqpoll', 'write_inline', 'write_async', 'write_sqpoll', 'readv_sqpoll_plain_fd',
  ],
  io_uring_cross_abi: ['same_abi_child_inline', 'same_abi_child_sqpoll', 'cross_abi_inline', 'cross_abi_async', 'cross_abi_sqpoll', 'cross_abi_consistent'],
  io_uring_evdev: ['uinput_device', 'read_syscall', 'uring_read_inline', 'uring_read_async', 'uring_read_sqpoll'],
};

/**
 * Stable diagnostic lines a claim checker reads, per probe: each must be
 * printed when the case it belongs to ran (was not skipped).
 */
const EVIDENCE: Record<string, Array<[string, RegExp]>> = {
  io_uring_setup: [['sqpoll_unprivileged', /^# sqpoll_unprivileged: ret=(0|-1 errno=\d+ E[A-Z0-9]+ \(.*\))$/m]],
  preadv2_pwritev2: [['preadv2_nowait', /^# preadv2_nowait: outcome=(data|EAGAIN|EOPNOTSUPP) ret=/m]],
  io_uring_rw: [['readv_sqpoll_plain_fd', /^# readv_sqpoll_plain_fd: outcome=\S+ cqe\.res=-?\d+ IORING_FEAT_SQPOLL_NONFIXED=[01]$/m]],
  io_uring_cross_abi: [
    ['same_abi_child_inline', /^# cross_abi: ring=(i386|x86_64) submitter=\1 mode=inline layout=submitter$/m],
    ['cross_abi_inline', /^# cross_abi: ring=(i386|x86_64) submitter=(?!\1)(i386|x86_64) mode=inline layout=(creator|submitter|refused) res=-?\d+$/m],
    ['cross_abi_async', /^# cross_abi: ring=\S+ submitter=\S+ mode=async layout=\S+ res=-?\d+$/m],
    ['cross_abi_sqpoll', /^# cross_abi: ring=\S+ submitter=\S+ mode=sqpoll layout=\S+ res=-?\d+$/m],
  ],
  io_uring_evdev: [['read_syscall', /^# read_syscall: ret=\d+ events=4 record_size=\S+ \(expected (16|24)\)$/m]],
};

interface Point {
  ok: boolean;
  name: string;
  skip?: string;
  diags: string[];
}

/** Test points of a flat KTAP document with the "# " lines printed before each. */
function points(lines: string[]): Point[] {
  const out: Point[] = [];
  let diags: string[] = [];
  for (const l of lines) {
    const m = /^(not )?ok \d+ (\S+)(?: # SKIP ?(.*))?$/.exec(l);
    if (m) {
      out.push({ ok: !m[1], name: m[2]!, ...(m[3] !== undefined ? { skip: m[3] } : {}), diags });
      diags = [];
    } else if (l.startsWith('# ')) {
      diags.push(l);
    }
  }
  return out;
}

t.test('probes print KTAP and exit 0, 1 or 4 on the host kernel', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  t.same(Object.keys(CASES).sort(), probes, 'every probe has its case list here');
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

t.test('every case of every probe passes or is skipped with a reason, with evidence', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  for (const abi of ABIS) {
    for (const probe of probes) {
      const what = `${abi}/${probe}`;
      const r = await execa(join(out, abi, probe), { reject: false, timeout: 60_000, cwd: out });
      const pts = points(r.stdout.split('\n'));
      t.same(pts.map((p) => p.name), CASES[probe], `${what}: case names in order`);
      for (const p of pts) {
        t.ok(p.ok, `${what} ${p.name}: ok${p.ok ? '' : `\n${p.diags.join('\n')}`}`);
        if (p.skip !== undefined) {
          t.match(p.skip, /\S/, `${what} ${p.name}: SKIP has a reason`);
        } else {
          t.ok(p.diags.length > 0, `${what} ${p.name}: evidence (# lines) before the result`);
        }
      }
      const ran = pts.filter((p) => p.ok && p.skip === undefined).length;
      t.equal(r.exitCode, ran > 0 ? 0 : 4, `${what}: exit status ${r.exitCode} fits ${ran} run case(s)`);
      // Byte-for-byte checks print what they compared.
      if (ran > 0 && probe !== 'io_uring_setup' && probe !== 'keyctl_iov') {
        t.match(r.stdout, /^# .*: compared \d+ bytes, (identical|first difference at offset \d+)/m, `${what}: a byte comparison was printed`);
      }
      for (const [c, re] of EVIDENCE[probe] ?? []) {
        if (pts.find((p) => p.name === c)?.skip === undefined) t.match(r.stdout, re, `${what}: stable evidence for ${c}`);
      }
    }
  }
});

t.test('io_uring_cross_abi finds its sibling of the other ABI', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  for (const abi of ABIS) {
    const r = await execa(join(out, abi, 'io_uring_cross_abi'), { reject: false, timeout: 60_000 });
    const other = abi === 'i386' ? 'x86_64' : 'i386';
    if (/^ok 3 cross_abi_inline # SKIP io_uring/m.test(r.stdout)) continue; // io_uring off on this host
    t.match(r.stdout, new RegExp(`^# this binary: \\S+/${abi}/io_uring_cross_abi \\(${abi}\\); sibling: \\S+/${other}/io_uring_cross_abi$`, 'm'));
    t.notMatch(r.stdout, /# SKIP no sibling/, `${abi}: the sibling was found`);
  }
  // A copy outside any <abi>/ directory has no sibling: the cross cases skip with the reason.
  const lone = join(out, 'lone');
  await execa('mkdir', ['-p', lone]);
  await execa('cp', [join(out, 'x86_64', 'io_uring_cross_abi'), lone]);
  const r = await execa(join(lone, 'io_uring_cross_abi'), { reject: false, timeout: 60_000 });
  const pts = points(r.stdout.split('\n'));
  for (const c of ['cross_abi_inline', 'cross_abi_async', 'cross_abi_sqpoll', 'cross_abi_consistent']) {
    const p = pts.find((x) => x.name === c);
    t.ok(p?.ok && p.skip !== undefined && /sibling|io_uring/.test(p.skip), `${c} skipped with a reason: ${p?.skip}`);
  }
});

t.test('io_uring_setup through the init plan as uid 65534', { skip: (build.exitCode !== 0 && 'build failed') || (process.getuid?.() !== 0 && 'needs root to switch uid') }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-uid-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // uid 65534 must be able to reach and run the binaries (mkdtemp makes 0700 directories).
  await chmod(out, 0o755);
  for (const abi of ABIS) await chmod(join(out, abi), 0o755);
  const plan = join(dir, 'plan');
  const rows = ABIS.map((abi) => [`io_uring_setup:${abi}:uid65534`, 30, 65534, '/', join(out, abi, 'io_uring_setup')].join('\t'));
  await writeFile(plan, rows.join('\n') + '\n');
  const r = await execa(initTesting, { env: { KSERIES_PLAN: plan, KSERIES_KMSG: '' }, reject: false, timeout: 60_000, cwd: '/' });
  t.equal(r.exitCode, 0, 'init-testing exits 0');
  ABIS.forEach((abi, i) => {
    const sub = r.stdout.split(`    # Subtest: io_uring_setup:${abi}:uid65534\n`)[1]?.split(/\n(?:not )?ok \d+ /)[0] ?? '';
    const inner = sub.split('\n').map((l) => l.replace(/^ {4}/, ''));
    if (inner.some((l) => /# SKIP io_uring/.test(l))) return; // io_uring disabled on this host
    t.match(r.stdout, new RegExp(`\\nok ${i + 1} io_uring_setup:${abi}:uid65534\\n`), `${abi}: the entry passes unprivileged`);
    t.ok(inner.includes('# uid=65534 euid=65534'), `${abi}: ran as uid 65534`);
    t.ok(inner.includes('# sqpoll_unprivileged_as: uid=65534 euid=65534 (this process)'), `${abi}: tried SQPOLL itself`);
    t.ok(inner.some((l) => /^# sqpoll_unprivileged: ret=(0|-1 errno=\d+ E[A-Z]+ \(.*\))$/.test(l)), `${abi}: stable outcome line`);
    t.ok(inner.some((l) => /^ok 2 setup_sqpoll$/.test(l)), `${abi}: setup_sqpoll recorded as ok, not judged`);
  });
});

t.test('init runs a plan and reports each entry as a subtest', { skip: build.exitCode !== 0 && 'build failed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-plan-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const plan = join(dir, 'plan');
  const rows = [
    '# comment',
    ['exec:echo', 5, 0, '/', '/bin/echo', 'hello world'],
    ['exec:sleep', 1, 0, '/', '/bin/sleep', '10'],
    ['readv_writev:native64', 30, 0, '/', join(out, 'x86_64', 'readv_writev')],
    ['exec:exit3', 5, 0, '/', '/bin/sh', '-c', 'echo to-stderr >&2; exit 3'],
    ['exec:segv', 5, 0, '/', '/bin/sh', '-c', 'kill -SEGV $$'],
    ['exec:missing', 5, 0, '/', '/nonexistent/program'],
    ['exec:skip', 5, 0, '/', '/bin/sh', '-c', 'printf "TAP version 13\\n1..1\\nok 1 x # SKIP not here\\n"; exit 4'],
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
