import t from 'tap';
import { readFileSync } from 'node:fs';
import { ExitCode, type ConsoleResult, type ProbeResult } from '../harness/model/results.ts';
import { ConsoleLineSplitter, cleanConsoleText, splitConsoleLines } from '../harness/console/lines.ts';
import { hasPrintkTimestamp, kernelMessage, stripPrintkTimestamp } from '../harness/console/printk.ts';
import { findKtapStart, parseKtap, splitProbeId } from '../harness/console/ktap.ts';
import { classifyConsole, spanAt } from '../harness/console/classify.ts';
import { exitCodeFor, parseConsole, statusFor } from '../harness/console/parse-console.ts';
import { formatResultTable } from '../harness/report/summary.ts';
import { hangMarkLine, readHangMark } from '../harness/qemu/hang-mark.ts';

const FW = '\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01H';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/console/${name}`, import.meta.url), 'utf8');
const probe = (r: ConsoleResult, id: string): ProbeResult => {
  const p = r.probes.find(x => x.id === id);
  if (!p) throw new Error(`no probe ${id} in ${r.probes.map(x => x.id).join(', ')}`);
  return p;
};
const kinds = (r: { findings: { kind: string }[] }) => r.findings.map(f => f.kind);

t.test('fixtures are raw serial output', async t => {
  for (const name of ['all-pass.log', 'probe-fail.log', 'warning-splat.log', 'panic-truncated.log', 'silent-hang.log', 'kselftest-tap13.log', 'no-ktap.log', 'skip-timeout.log']) {
    const text = fixture(name);
    t.ok(text.startsWith(FW), `${name} starts with the firmware escapes`);
    t.notOk(/[^\r]\n/.test(text), `${name} has only \\r\\n line endings`);
  }
});

t.test('lines: normalise raw console text', async t => {
  const lines = splitConsoleLines(`${FW}KTAP version 1\r\n\x00\x00# a\x07 b\r\n\x1b]0;title\x07\x1b(Bok 1 x\x1bc\r\n\r\ntail without newline`);
  t.same(lines, [
    { no: 1, text: 'KTAP version 1' },
    { no: 2, text: '# a b' },
    { no: 3, text: 'ok 1 x' },
    { no: 4, text: '' },
    { no: 5, text: 'tail without newline' },
  ]);
  t.equal(cleanConsoleText('  indented\tkept\r'), '  indented\tkept', 'leading blanks and tabs survive, \\r goes');
  t.equal(cleanConsoleText('a\x9b1mb\x1b[?25lc\x1bP1$r\x1b\\d'), 'abcd', '8-bit CSI, private CSI and DCS strings go');
  t.same(splitConsoleLines('a\n'), [{ no: 1, text: 'a' }], 'a final newline does not add an empty line');
  t.same(splitConsoleLines(''), []);
});

t.test('lines: the streaming splitter numbers lines like the whole-string split', async t => {
  const raw = fixture('warning-splat.log');
  const s = new ConsoleLineSplitter();
  const got = [];
  for (let i = 0; i < raw.length; i += 7) got.push(...s.push(raw.slice(i, i + 7)));
  got.push(...s.end());
  t.same(got, splitConsoleLines(raw));
  t.equal(got.length, 171);
  t.same(new ConsoleLineSplitter().end(), [], 'nothing pending, nothing flushed');
});

t.test('printk: timestamps and kmsg record prefixes', async t => {
  t.ok(hasPrintkTimestamp('[    1.234567] foo'));
  t.notOk(hasPrintkTimestamp('    # [1.2] not at the start'));
  t.equal(stripPrintkTimestamp('[    0.500003]     # Subtest: x'), '    # Subtest: x', 'one space eaten, indentation kept');
  t.equal(stripPrintkTimestamp('[   12.000001][    T57] msg'), 'msg', 'caller id goes too');
  t.equal(stripPrintkTimestamp('no timestamp'), undefined);
  t.equal(kernelMessage('  [    1.0] WARNING: x '), 'WARNING: x');
  t.equal(kernelMessage('4,123,456789,-;WARNING: y'), 'WARNING: y');
  t.equal(kernelMessage('<0>Kernel panic - not syncing: z'), 'Kernel panic - not syncing: z');
});

t.test('ktap: header search tolerates glued garbage', async t => {
  const at = (text: string) => findKtapStart(splitConsoleLines(text));
  t.same(at(`${FW}KTAP version 1\r\n1..0\r\n`), { index: 0, header: 'KTAP version 1', viaPrintk: false });
  t.same(at('boot noise\nSeaBIOS junk[01;01HTAP version 13\n'), { index: 1, header: 'TAP version 13', viaPrintk: false });
  t.same(at('[    0.51] KTAP version 1\n'), { index: 0, header: 'KTAP version 1', viaPrintk: true });
  t.same(at('KTAP version 1[    0.6] interrupting printk\n'), { index: 0, header: 'KTAP version 1', viaPrintk: false });
  t.equal(at('[    0.0] Linux version 6.1.0\nno tap here\n'), undefined);
});

t.test('ktap: probe ids split into probe and ABI', async t => {
  t.same(splitProbeId('io_uring_readv:compat'), { probe: 'io_uring_readv', abi: 'compat' });
  t.same(splitProbeId('x:native32'), { probe: 'x', abi: 'native32' });
  t.same(splitProbeId('exec:repro'), { probe: 'exec:repro', abi: '' });
  t.same(splitProbeId('selftests: timers: nanosleep'), { probe: 'selftests: timers: nanosleep', abi: '' });
});

t.test('ktap: kernel lines are dropped from the TAP stream but keep their numbers', async t => {
  const lines = splitConsoleLines(
    [
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: a:compat',
      '    1..1',
      '[    1.0] kernel line',
      'WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2',
      ' dump_stack_lvl+0x1/0x2',
      '    # evidence',
      '    ok 1 c',
      'ok 1 a:compat',
    ].join('\r\n') + '\r\n',
  );
  const doc = parseKtap(lines);
  t.same([...doc.tapLines], [1, 2, 3, 4, 5, 9, 10, 11]);
  t.same(doc.spans, [{ probeIndex: 0, id: 'a:compat', start: 4, end: 11 }]);
  t.same(doc.probes[0]?.cases, [{ name: 'c', status: 'PASS', diagnostics: ['evidence'] }]);
  t.equal(doc.complete, true);
});

t.test('ktap: directives and statuses', async t => {
  const doc = parseKtap(
    splitConsoleLines(
      [
        'KTAP version 1',
        '1..7',
        'ok 1 p:compat',
        'ok 2 q:compat # SKIP no io_uring',
        'not ok 3 exec:r # TIMEOUT after 30 s',
        'not ok 4 exec:s # killed by signal 11 (SIGSEGV)',
        'not ok 5 t:native64',
        '    KTAP version 1',
        '    # Subtest: u:compat',
        '    1..5',
        '    not ok 1 a # TIMEOUT after 5 s',
        '    ok 2 b # XFAIL known bug',
        '    not ok 3 c # TODO not yet',
        '    not ok 4 d # SKIP whatever',
        '    not ok 5 e # ERROR setup failed',
        'not ok 6 u:compat # exit status 1',
        'ok 7 v:compat # TODO',
      ].join('\n'),
    ),
  );
  t.same(
    doc.probes.map(p => [p.id, p.status, p.reason]),
    [
      ['p:compat', 'PASS', undefined],
      ['q:compat', 'SKIP', 'no io_uring'],
      ['exec:r', 'TIMEOUT', 'after 30 s'],
      ['exec:s', 'FAIL', 'killed by signal 11 (SIGSEGV)'],
      ['t:native64', 'FAIL', undefined],
      ['u:compat', 'FAIL', 'exit status 1'],
      ['v:compat', 'PASS', 'TODO'],
    ],
  );
  t.same(
    doc.probes[5]?.cases.map(c => [c.name, c.status, c.reason]),
    [
      ['a', 'FAIL', 'TIMEOUT after 5 s'],
      ['b', 'PASS', 'XFAIL known bug'],
      ['c', 'SKIP', 'TODO not yet'],
      ['d', 'SKIP', 'whatever'],
      ['e', 'FAIL', 'ERROR setup failed'],
    ],
  );
  t.notOk('reason' in doc.probes[0]!, 'no reason key when there is none');
  t.equal(doc.complete, true);
});

t.test('ktap: KTAP printed through printk (KUnit) has its timestamps stripped', async t => {
  const text = [
    '[    0.500000] KTAP version 1',
    '[    0.500001] 1..1',
    '[    0.500002]     KTAP version 1',
    '[    0.500003]     # Subtest: list-kernel-test',
    '[    0.500004]     1..2',
    '[    0.500005]     ok 1 list_test_list_init',
    '[    0.500006] some other kernel message',
    '[    0.500007]     # list_test_list_add: EXPECTATION FAILED at lib/list-test.c:12',
    '[    0.500008]     not ok 2 list_test_list_add',
    '[    0.500010] not ok 1 list-kernel-test',
  ].join('\n');
  const r = parseConsole(text);
  t.equal(r.ktapFound, true);
  t.equal(r.complete, true);
  const p = probe(r, 'list-kernel-test');
  t.equal(p.status, 'FAIL');
  t.same(p.cases[1], { name: 'list_test_list_add', status: 'FAIL', diagnostics: ['list_test_list_add: EXPECTATION FAILED at lib/list-test.c:12'] });
  t.equal(exitCodeFor(r), ExitCode.PROBE_FAILED);
});

t.test('ktap: TAP 13 YAML diagnostics survive interleaved kernel lines', async t => {
  const r = parseConsole(['TAP version 13', '1..1', 'not ok 1 first', '  ---', '[    1.0] interleaved', '  message: "boom"', '  got: 3', '  ...'].join('\n'));
  t.same(probe(r, 'first').diagnostics, ['message: boom', 'got: 3']);
  t.equal(r.status, 'FAIL');
});

t.test('ktap: unindented TAP 14 "# Subtest:" and a second header', async t => {
  const r = parseConsole(['TAP version 14', '1..1', '# Subtest: outer', '    1..1', '    ok 1 inner', 'ok 1 outer', 'KTAP version 1', '1..5'].join('\n'));
  t.same(r.probes.map(p => [p.id, p.status, p.cases.length]), [['outer', 'PASS', 1]]);
  t.equal(r.complete, true, 'the second document does not spoil the first');
  const doc = parseKtap(splitConsoleLines(['KTAP version 1', '1..1', 'KTAP version 1', '1..1', 'ok 1 x'].join('\n')));
  t.equal(doc.lastLine, 2, 'a second top-level header ends the document');
  t.equal(doc.complete, false);
});

t.test('ktap: "Bail out!" inside a subtest', async t => {
  const r = parseConsole(['KTAP version 1', '1..2', '    KTAP version 1', '    # Subtest: a:native64', '    1..1', 'Bail out! fork: Cannot allocate memory', 'reboot: Power down'].join('\n'));
  const p = probe(r, 'a:native64');
  t.equal(p.status, 'CRASHED');
  t.equal(p.reason, 'bailed out: fork: Cannot allocate memory');
  t.equal(r.complete, false);
  t.same(r.findings, [{ kind: 'truncated', line: 7, text: 'KTAP producer bailed out: fork: Cannot allocate memory', probe: 'a:native64' }]);
  t.equal(r.poweredOff, true);
  t.equal(exitCodeFor(r), ExitCode.KERNEL_PROBLEM);
});

t.test('classify: kinds, one finding per splat and kind', async t => {
  const text = [
    '[    1.0] ==================================================================', // 1
    '[    1.0] BUG: KASAN: slab-out-of-bounds in io_import_iovec+0x1/0x2', // 2
    '[    1.0] Read of size 8 at addr ffff888003a1c0f8 by task a/51',
    '[    1.0] ==================================================================',
    '------------[ cut here ]------------', // 5
    'kernel BUG at mm/slub.c:123!', // 6
    'invalid opcode: 0000 [#1] PREEMPT SMP', // 7
    'CPU: 0 PID: 51 Comm: a Tainted: G    B',
    '---[ end trace 0000000000000000 ]---',
    '[    2.0] BUG: unable to handle page fault for address: ffffffffff600000', // 10
    '[    2.0] #PF: supervisor read access in kernel mode',
    '[    2.0] Oops: 0000 [#2] PREEMPT SMP NOPTI', // 12
    '[    2.0] ---[ end trace 0000000000000000 ]---',
    '[    2.1] BUG: sleeping function called from invalid context at mm/slab.h:1', // 14
    '[    2.2] BUG: sleeping function called from invalid context at mm/slab.h:1', // 15
    '[    2.3] WARNING: possible circular locking dependency detected', // 16
    '[    2.4] Kernel panic - not syncing: Fatal exception', // 17
    '[    2.4] ---[ end Kernel panic - not syncing: Fatal exception ]---',
  ].join('\n');
  const c = classifyConsole(splitConsoleLines(text));
  t.same(
    c.findings.map(f => [f.line, f.kind]),
    [
      [2, 'kasan'],
      [5, 'cut-here'],
      [6, 'bug'],
      [7, 'oops'],
      [10, 'oops'],
      [14, 'bug'],
      [15, 'bug'],
      [16, 'warning'],
      [17, 'panic'],
    ],
  );
  t.equal(c.findings[4]?.text, 'BUG: unable to handle page fault for address: ffffffffff600000', 'text without the timestamp');
  t.equal(c.poweredOff, false);
  t.notOk(c.findings.some(f => f.probe !== undefined), 'nothing attributed without spans');
});

t.test('classify: resets, reboots and power-down', async t => {
  const tf = classifyConsole(splitConsoleLines(['SeaBIOS (version 1.16.3)', '[    0.0] Linux version 6.1.0 #1', 'x', 'SeaBIOS (version 1.16.3)', '[    0.0] Linux version 6.1.0 #1', 'reboot: Power down'].join('\n')));
  t.same(tf.findings, [{ kind: 'triple-fault', line: 4, text: 'unexpected reset: SeaBIOS (version 1.16.3)' }], 'the first firmware/kernel banners are normal; the reset is reported once');
  t.equal(tf.poweredOff, true);
  const banner = classifyConsole(splitConsoleLines(['Linux version 6.1.0 #1', 'Linux version 6.1.0 #1', 'Linux version 6.1.0 #1'].join('\n')));
  t.same(banner.findings.map(f => [f.kind, f.line]), [['triple-fault', 2], ['triple-fault', 3]], 'each new boot is a new reset');
  const rb = classifyConsole(splitConsoleLines(['[    0.0] Linux version 6.1.0 #1', '[    1.0] reboot: Restarting system', 'SeaBIOS (version 1.16.3)', '[    0.0] Linux version 6.1.0 #1'].join('\n')));
  t.same(rb.findings, [{ kind: 'reboot', line: 2, text: 'reboot: Restarting system' }], 'a kernel restart is one reboot, not also a triple fault');
  t.equal(rb.poweredOff, false);
});

t.test('classify: the init ends the run with a restart after its done line', async t => {
  const doc = (...tail: string[]) =>
    splitConsoleLines(['[    0.0] Linux version 6.1.0 #1', 'KTAP version 1', '1..1', '    KTAP version 1', '    1..1', '    ok 1 x', 'ok 1 p:compat', ...tail].join('\r\n'));
  const clean = parseConsole(doc('# kseries-init: done', '[    2.0] reboot: Restarting system').map(l => l.text).join('\r\n'));
  t.same([clean.findings, clean.poweredOff, clean.status, exitCodeFor(clean)], [[], true, 'PASS', 0], 'restart after done: a clean end');
  const early = parseConsole(doc('[    2.0] reboot: Restarting system', '# kseries-init: done').map(l => l.text).join('\r\n'));
  t.same(early.findings.map(f => f.kind), ['reboot'], 'a restart before the done line is an unexpected reboot');
  t.equal(early.poweredOff, false);
  t.equal(exitCodeFor(early), 4);
  const nested = parseConsole(doc('    # kseries-init: done', '[    2.0] reboot: Restarting system').map(l => l.text).join('\r\n'));
  t.same(nested.findings.map(f => f.kind), ['reboot'], 'only the top-level done line counts, not a payload printing it');
});

t.test('classify: attribution by span, kmsg echoes deduplicated', async t => {
  const lines = splitConsoleLines(
    [
      '    # Subtest: a:native64', // 1
      '[    1.0] ------------[ cut here ]------------', // 2
      '[    1.0] WARNING: CPU: 0 PID: 5 at x.c:1 f+0x1/0x2', // 3
      '[    1.0] ---[ end trace 0000000000000000 ]---',
      '    # kmsg: ------------[ cut here ]------------', // 5: echo of 2
      '    # kmsg: WARNING: CPU: 0 PID: 5 at x.c:1 f+0x1/0x2', // 6: echo of 3
      '    # kmsg: ---[ end trace 0000000000000000 ]---',
      '    # kmsg: WARNING: CPU: 0 PID: 5 at x.c:9 g+0x1/0x2', // 8: only in kmsg
      '    # BUG: a probe diagnostic is not a kernel message', // 9
      'ok 1 a:native64', // 10
      '[    2.0] BUG: scheduling while atomic: b/7/0x00000002', // 11: between probes
    ].join('\n'),
  );
  const spans = [{ id: 'a:native64', start: 1, end: 10 }];
  const c = classifyConsole(lines, { spans, tapLines: new Set([1, 5, 6, 7, 8, 9, 10]) });
  t.same(c.findings, [
    { kind: 'cut-here', line: 2, text: '------------[ cut here ]------------', probe: 'a:native64' },
    { kind: 'warning', line: 3, text: 'WARNING: CPU: 0 PID: 5 at x.c:1 f+0x1/0x2', probe: 'a:native64' },
    { kind: 'warning', line: 8, text: 'WARNING: CPU: 0 PID: 5 at x.c:9 g+0x1/0x2', probe: 'a:native64' },
    { kind: 'bug', line: 11, text: 'BUG: scheduling while atomic: b/7/0x00000002' },
  ]);
  t.equal(spanAt(spans, 10)?.id, 'a:native64', 'the result line is inside the span');
  t.equal(spanAt(spans, 11), undefined);
  t.equal(spanAt([{ id: 'open', start: 3 }], 1000)?.id, 'open', 'an unfinished span runs to the end');
});

t.test('fixture all-pass', async t => {
  const r = parseConsole(fixture('all-pass.log'));
  t.equal(r.status, 'PASS');
  t.equal(exitCodeFor(r), ExitCode.OK);
  t.same([r.ktapFound, r.complete, r.poweredOff], [true, true, true]);
  t.same(
    r.probes.map(p => [p.id, p.probe, p.abi, p.status, p.cases.length]),
    [
      ['readv_writev:compat', 'readv_writev', 'compat', 'PASS', 5],
      ['readv_writev:native64', 'readv_writev', 'native64', 'PASS', 5],
      ['io_uring_setup:compat', 'io_uring_setup', 'compat', 'PASS', 3],
      ['io_uring_setup:native64', 'io_uring_setup', 'native64', 'PASS', 3],
      ['io_uring_readv:compat', 'io_uring_readv', 'compat', 'PASS', 3],
      ['io_uring_readv:native64', 'io_uring_readv', 'native64', 'PASS', 3],
    ],
  );
  const rw = probe(r, 'readv_writev:compat');
  t.same(rw.cases[1], {
    name: 'writev',
    status: 'PASS',
    diagnostics: ['writev: 8 iovecs, 16909 bytes total (two zero-length)', 'writev: ret=16909', 'expected ret=16909'],
  });
  t.same(rw.diagnostics, ['kseries-init: pid 52 exit status 0 after 0.01 s']);
  t.same(rw.kmsg, ["process 'readv_writev' started with executable stack"]);
  t.same(probe(r, 'io_uring_readv:native64').cases.map(c => c.name), ['readv_inline_plain_fd', 'readv_inline_fixed_file', 'readv_sqpoll_fixed_file']);
  t.same(r.findings, [], 'a benign kernel line is not a finding');
});

t.test('fixture probe-fail', async t => {
  const r = parseConsole(fixture('probe-fail.log'));
  t.equal(r.status, 'FAIL');
  t.equal(exitCodeFor(r), ExitCode.PROBE_FAILED);
  t.same([r.complete, r.poweredOff], [true, true]);
  const p = probe(r, 'readv_writev:native64');
  t.equal(p.status, 'FAIL');
  t.equal(p.reason, 'exit status 1');
  t.same(
    p.cases.filter(c => c.status === 'FAIL'),
    [
      { name: 'readv', status: 'FAIL', diagnostics: ['readv: ret=-1 errno=14 EFAULT (Bad address)', 'expected ret=16909'] },
      {
        name: 'pwritev_preadv',
        status: 'FAIL',
        diagnostics: ['pwritev at 4GiB+17: ret=16909', 'preadv at 4GiB+17: ret=12288', 'file position moved to 12288, expected 0', 'expected ret=16909'],
      },
    ],
  );
  t.same(p.diagnostics, ['kseries-init: pid 53 exit status 1 after 0.01 s']);
  t.same(r.probes.map(x => x.status), ['PASS', 'FAIL', 'PASS']);
  t.same(r.findings, []);
});

t.test('fixture warning-splat: attributed to io_uring_readv:compat, exit 4', async t => {
  const r = parseConsole(fixture('warning-splat.log'));
  t.equal(r.status, 'CRASHED');
  t.equal(exitCodeFor(r), ExitCode.KERNEL_PROBLEM);
  t.same([r.complete, r.poweredOff], [true, true]);
  const expected = [
    { kind: 'cut-here', line: 93, text: '------------[ cut here ]------------', probe: 'io_uring_readv:compat' },
    { kind: 'warning', line: 94, text: 'WARNING: CPU: 0 PID: 56 at io_uring/rw.c:412 io_import_iovec+0x1a5/0x1f0', probe: 'io_uring_readv:compat' },
  ];
  t.same(r.findings, expected, 'once per kind: the "# kmsg:" echo (lines 125-145) is not counted again');
  const p = probe(r, 'io_uring_readv:compat');
  t.same(p.findings, expected);
  t.equal(p.status, 'PASS', 'the probe itself reported ok; the crash is in its findings');
  t.same(p.cases.map(c => [c.name, c.status]), [
    ['readv_inline_plain_fd', 'PASS'],
    ['readv_inline_fixed_file', 'PASS'],
    ['readv_sqpoll_fixed_file', 'PASS'],
  ]);
  t.same(
    p.cases[1]?.diagnostics,
    [
      'io_uring_register(IORING_REGISTER_FILES): ret=0',
      'sqe: READV fd=0 (fixed) iovecs=6 (8-byte iovec) len=8192 sizeof(void*)=4',
      'io_uring_enter(to_submit=1): ret=1',
      'waited with 1 io_uring_enter call(s), 0 SQ wakeup(s)',
      'cqe.res=8192 (expected 8192) user_data=0x1 flags=0x0',
    ],
    'interleaved kernel lines do not leak into diagnostics',
  );
  t.equal(p.kmsg.length, 21);
  t.equal(p.kmsg[1], 'WARNING: CPU: 0 PID: 56 at io_uring/rw.c:412 io_import_iovec+0x1a5/0x1f0');
  t.equal(p.kmsg[10], ' <TASK>', 'kmsg text kept verbatim');
  for (const other of r.probes.filter(x => x !== p)) t.same(other.findings, [], `${other.id} is clean`);
});

t.test('fixture panic-truncated', async t => {
  const r = parseConsole(fixture('panic-truncated.log'));
  t.equal(r.status, 'CRASHED');
  t.equal(exitCodeFor(r), ExitCode.KERNEL_PROBLEM);
  t.same([r.ktapFound, r.complete, r.poweredOff], [true, false, false]);
  t.same(r.findings, [
    { kind: 'oops', line: 116, text: 'BUG: kernel NULL pointer dereference, address: 0000000000000010', probe: 'io_uring_readv:native64' },
    { kind: 'panic', line: 143, text: 'Kernel panic - not syncing: Fatal exception', probe: 'io_uring_readv:native64' },
    { kind: 'truncated', line: 145, text: 'KTAP output ended after 5 of 6 planned result(s)', probe: 'io_uring_readv:native64' },
  ]);
  t.equal(r.probes.length, 6);
  const p = probe(r, 'io_uring_readv:native64');
  t.equal(p.status, 'CRASHED');
  t.equal(p.reason, 'no result line: console output ended inside the subtest');
  t.same(p.cases.map(c => [c.name, c.status]), [['readv_inline_plain_fd', 'PASS']], 'cases before the crash are kept');
  t.same(p.diagnostics, ['io_uring_register(IORING_REGISTER_FILES): ret=0', 'sqe: READV fd=0 (fixed) iovecs=6 (16-byte iovec) len=8192 sizeof(void*)=8'], 'the last words before the crash');
  t.same(kinds(p), ['oops', 'panic', 'truncated']);
});

t.test('fixture silent-hang', async t => {
  const text = fixture('silent-hang.log');
  const hung = parseConsole(text);
  t.equal(hung.status, 'TIMEOUT');
  t.equal(exitCodeFor(hung), ExitCode.TIMEOUT);
  t.same([hung.complete, hung.poweredOff], [false, false]);
  t.same(hung.findings, [
    { kind: 'truncated', line: 121, text: 'KTAP output ended after 5 of 6 planned result(s)', probe: 'io_uring_readv:native64' },
    { kind: 'hang', line: 122, text: 'guest hung: no console output for 180 s; QEMU was killed', probe: 'io_uring_readv:native64' },
  ]);
  const p = probe(hung, 'io_uring_readv:native64');
  t.same(kinds(p), ['truncated', 'hang']);
  t.same([p.status, p.reason], ['TIMEOUT', 'guest hung: no console output for 180 s; QEMU was killed'], 'the probe line says what the run says');

  const overall = parseConsole(text.replace(/kseries-runner: .*\r\n$/, `${hangMarkLine('overall', 600_000)}\r\n`));
  t.equal(overall.findings.at(-1)?.text, 'guest hung: overall boot timeout of 600 s expired; QEMU was killed');
  t.equal(exitCodeFor(overall), ExitCode.TIMEOUT);

  const noMark = parseConsole(text.replace(/kseries-runner: .*\r\n$/, ''));
  t.equal(noMark.status, 'CRASHED', 'without the runner\'s mark it is a truncated console');
  t.equal(exitCodeFor(noMark), ExitCode.KERNEL_PROBLEM);
  t.same(kinds(noMark), ['truncated']);
  t.equal(probe(noMark, 'io_uring_readv:native64').status, 'CRASHED');
});

t.test('a hung --exec gets one answer: the runner\'s mark makes the saved log say TIMEOUT/124', async t => {
  const head = ['KTAP version 1', '# kseries-init: uname 6.1.0 x86_64', '1..2', '    KTAP version 1', '    # Subtest: a:native64', '    1..1', '    ok 1 x', 'ok 1 a:native64', '    KTAP version 1', '    # Subtest: exec:repro', '    # repro: iteration 1'];
  // What the runner writes after a partial line, and what it wrote before this fix (nothing).
  const killed = parseConsole([...head, `    # repro: iter${'\r\n'}${hangMarkLine('overall', 300_000)}`, ''].join('\r\n'));
  const ex = probe(killed, 'exec:repro');
  t.same([ex.status, killed.status, exitCodeFor(killed)], ['TIMEOUT', 'TIMEOUT', ExitCode.TIMEOUT]);
  t.same(kinds(ex), ['truncated', 'hang']);
  t.same(probe(killed, 'a:native64').findings, [], 'the finished probe is not blamed');
  const crashed = parseConsole([...head, '[    9.0] Kernel panic - not syncing: hung_task: blocked tasks', hangMarkLine('silence', 120_000)].join('\n'));
  t.same([probe(crashed, 'exec:repro').status, crashed.status, exitCodeFor(crashed)], ['CRASHED', 'CRASHED', ExitCode.KERNEL_PROBLEM], 'a panic before the kill is still the crash');
  t.equal(readHangMark('kseries-runner: killed QEMU (silence): no console output for 120 s')?.kind, 'silence');
  t.equal(readHangMark('    # kseries-runner: killed QEMU (silence): x'), undefined, 'only a line of its own');
});

t.test('fixture kselftest-tap13', async t => {
  const r = parseConsole(fixture('kselftest-tap13.log'));
  t.equal(r.status, 'TIMEOUT', 'a test killed for running too long outranks a plain failure');
  t.equal(exitCodeFor(r), ExitCode.TIMEOUT);
  t.same([r.ktapFound, r.complete, r.poweredOff], [true, true, true]);
  t.same(
    r.probes.map(p => [p.id, p.probe, p.abi, p.status, p.reason]),
    [
      ['selftests: timers: posix_timers', 'selftests: timers: posix_timers', '', 'PASS', undefined],
      ['selftests: timers: nanosleep', 'selftests: timers: nanosleep', '', 'FAIL', 'exit=1'],
      ['selftests: timers: rtcpie', 'selftests: timers: rtcpie', '', 'SKIP', undefined],
      ['selftests: timers: inconsistency-check', 'selftests: timers: inconsistency-check', '', 'TIMEOUT', '45 seconds'],
    ],
  );
  const ns = probe(r, 'selftests: timers: nanosleep');
  t.same(ns.diagnostics, [
    'timeout set to 45',
    'selftests: timers: nanosleep',
    'Nanosleep CLOCK_REALTIME                  [OK]',
    'Nanosleep CLOCK_MONOTONIC                 [OK]',
    'Nanosleep CLOCK_BOOTTIME                  [FAILED]',
  ]);
  t.same(ns.cases, []);
  t.equal(probe(r, 'selftests: timers: posix_timers').diagnostics.length, 11, 'nested TAP kept as diagnostics');
  t.same(r.findings, [], 'hrtimer chatter is not a finding');
});

t.test('fixture no-ktap', async t => {
  const r = parseConsole(fixture('no-ktap.log'));
  t.equal(r.status, 'CRASHED');
  t.equal(exitCodeFor(r), ExitCode.KERNEL_PROBLEM);
  t.same([r.ktapFound, r.complete, r.poweredOff], [false, false, true]);
  t.same(r.probes, []);
  t.same(r.findings, [
    {
      kind: 'truncated',
      line: 18,
      text: 'no KTAP/TAP header ("KTAP version 1" / "TAP version 13") on the console; the guest printed "Bail out! /kseries/plan: No such file or directory"',
    },
  ]);
  t.same(parseConsole('').findings, [{ kind: 'truncated', line: 0, text: 'no KTAP/TAP header ("KTAP version 1" / "TAP version 13") on the console' }]);
});

t.test('fixture skip-timeout', async t => {
  const r = parseConsole(fixture('skip-timeout.log'));
  t.equal(r.status, 'TIMEOUT');
  t.equal(exitCodeFor(r), ExitCode.TIMEOUT);
  t.same([r.complete, r.poweredOff], [true, true], 'power-down without a timestamp');
  t.same(
    r.probes.map(p => [p.id, p.status, p.reason]),
    [
      ['readv_writev:compat', 'PASS', undefined],
      ['io_uring_setup:native64', 'SKIP', 'io_uring_setup: ENOSYS (kernel built without CONFIG_IO_URING)'],
      ['exec:repro', 'TIMEOUT', 'after 30 s'],
    ],
  );
  t.same(probe(r, 'readv_writev:compat').cases[4], {
    name: 'pwritev_preadv',
    status: 'SKIP',
    reason: 'pwritev at 4GiB+17: EFBIG (File too large)',
    diagnostics: ['pwritev at 4GiB+17: ret=-1 errno=27 EFBIG (File too large)'],
  });
  t.same(probe(r, 'io_uring_setup:native64').cases.map(c => c.status), ['SKIP', 'SKIP', 'SKIP']);
  const ex = probe(r, 'exec:repro');
  t.same([ex.probe, ex.abi], ['exec:repro', 'x86_64'], 'an --exec entry runs on the guest arch the init reported');
  t.same(ex.cases, []);
  t.same(ex.diagnostics, ['repro: racing readv against close on fd 3', 'repro: iteration 1000', 'kseries-init: pid 54 killed by signal 9 (SIGKILL) after 30.01 s']);
  t.same(ex.kmsg, ["process 'repro' started with executable stack"]);
  t.same(r.findings, []);
});

t.test('status and exit-code rules', async t => {
  const base: ConsoleResult = { status: 'PASS', ktapFound: true, complete: true, poweredOff: true, probes: [], findings: [] };
  const p = (status: ProbeResult['status']): ProbeResult => ({ id: 'x', probe: 'x', abi: '', status, cases: [], diagnostics: [], kmsg: [], findings: [] });
  const f = (kind: ConsoleResult['findings'][number]['kind']) => ({ kind, line: 1, text: kind });
  t.equal(statusFor([], [p('PASS'), p('SKIP')]), 'PASS');
  t.equal(statusFor([], [p('PASS'), p('TIMEOUT')]), 'TIMEOUT');
  t.equal(statusFor([], [p('FAIL'), p('TIMEOUT')]), 'TIMEOUT');
  t.equal(statusFor([f('truncated')], [p('FAIL')]), 'CRASHED');
  t.equal(statusFor([f('truncated'), f('hang')], []), 'TIMEOUT', 'hang beats truncation');
  t.equal(statusFor([f('hang'), f('warning')], []), 'CRASHED', 'a crash beats a hang');
  t.equal(statusFor([f('cut-here')], []), 'PASS', 'a cut-here marker alone is not a crash');
  t.equal(statusFor([f('plan')], [p('TIMEOUT')]), 'CRASHED', 'a plan violation ranks with truncation');
  t.equal(statusFor([f('plan'), f('hang')], []), 'TIMEOUT');
  t.equal(exitCodeFor({ ...base, findings: [f('plan')] }), 4);
  t.equal(exitCodeFor({ ...base, probes: [p('PASS'), p('CRASHED')] }), 1, 'an entry cut short with no finding is a failure');
  for (const kind of ['panic', 'oops', 'bug', 'kasan', 'warning', 'triple-fault', 'reboot'] as const) {
    t.equal(exitCodeFor({ ...base, findings: [f(kind), f('hang')] }), 4, `${kind} → 4`);
  }
  t.equal(exitCodeFor({ ...base, findings: [f('hang'), f('truncated')] }), 124);
  t.equal(exitCodeFor({ ...base, complete: false }), 4, 'incomplete KTAP → 4 even without a finding');
  t.equal(exitCodeFor({ ...base, ktapFound: false }), 4);
  t.equal(exitCodeFor({ ...base, probes: [p('TIMEOUT')] }), 124, 'a probe the init killed is a timeout');
  t.equal(exitCodeFor({ ...base, probes: [p('PASS'), p('SKIP')] }), 0);
  t.equal(exitCodeFor({ ...base, status: 'INFRA' }), 3);
});

t.test('a log ending in 200,000 comment lines parses (no argument-spread stack overflow)', async t => {
  const many = (prefix: string) => Array.from({ length: 200_000 }, (_, i) => `${prefix}# chatter ${i}`);
  const top = parseConsole(['KTAP version 1', '1..1', 'ok 1 a:compat', ...many(''), 'reboot: Power down'].join('\n'));
  t.equal(top.status, 'PASS');
  t.equal(exitCodeFor(top), ExitCode.OK);
  t.equal(formatResultTable(top).at(-1), 'Status: PASS (exit 0)');
  const inside = parseConsole(['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: a:compat', '    1..1', '    ok 1 x', ...many('    '), 'ok 1 a:compat'].join('\n'));
  t.equal(inside.probes[0]?.diagnostics.length, 200_000, 'trailing subtest comments kept as the probe diagnostics');
});

t.test('fixture kselftest-nested-fail: a "# not ok" under an "ok" entry fails it and the run', async t => {
  const r = parseConsole(fixture('kselftest-nested-fail.log'));
  t.same(
    r.probes.map(p => [p.id, p.status, p.reason]),
    [
      ['selftests: net: reuseport_bpf', 'FAIL', 'nested failure: not ok reuseport_bpf.ipv4_tcp'],
      ['selftests: net: so_txtime', 'PASS', undefined],
      ['selftests: net: tls', 'PASS', undefined],
    ],
  );
  t.equal(r.status, 'FAIL');
  t.equal(exitCodeFor(r), ExitCode.PROBE_FAILED);
  t.same([r.complete, r.poweredOff, r.findings], [true, true, []]);
});

t.test('nested failures at any depth fail the entry; XFAIL, SKIP and TODO do not', async t => {
  const r = parseConsole(
    [
      'KTAP version 1',
      '1..4',
      // a case failed, the probe's own line says ok
      '    KTAP version 1',
      '    # Subtest: a:compat',
      '    1..2',
      '    ok 1 x',
      '    not ok 2 y # exit=1',
      'ok 1 a:compat',
      // three levels down, under an exec that exited 0
      '    KTAP version 1',
      '    # Subtest: exec:runner',
      '    1..1',
      '        KTAP version 1',
      '        # Subtest: suite',
      '        1..1',
      '            KTAP version 1',
      '            # Subtest: group',
      '            1..1',
      '            not ok 1 deep_case',
      '        ok 1 group',
      '    ok 1 suite',
      'ok 2 exec:runner',
      // expected failures and excused ones
      '    KTAP version 1',
      '    # Subtest: exec:xfail',
      '    1..4',
      '    ok 1 # XFAIL no name, as ksft_test_result_xfail prints it',
      '    ok 2 named # XFAIL: known bug',
      '    not ok 3 later # TODO',
      '    # not ok 4 nested_skip # SKIP no device',
      '    ok 4 last',
      'ok 3 exec:xfail',
      // a SKIP line over a nested failure is a failure
      '    KTAP version 1',
      '    # Subtest: exec:skipper',
      '    1..0 # SKIP says it skipped',
      '    # # not ok 1 but it ran and failed',
      'ok 4 exec:skipper # SKIP says it skipped',
    ].join('\n'),
  );
  t.same(
    r.probes.map(p => [p.id, p.status, p.reason]),
    [
      ['a:compat', 'FAIL', 'nested failure: not ok y # exit=1'],
      ['exec:runner', 'FAIL', 'nested failure: suite > group > not ok deep_case'],
      ['exec:xfail', 'PASS', undefined],
      ['exec:skipper', 'FAIL', 'nested failure: not ok but it ran and failed; says it skipped'],
    ],
  );
  t.same(probe(r, 'exec:runner').cases.map(c => [c.name, c.status, c.reason]), [['suite', 'FAIL', 'nested failure: group > not ok deep_case']]);
  t.same(
    probe(r, 'exec:xfail').cases.map(c => [c.name, c.status, c.reason]),
    [
      ['#1', 'PASS', 'XFAIL no name, as ksft_test_result_xfail prints it'],
      ['named', 'PASS', 'XFAIL known bug'],
      ['later', 'SKIP', 'TODO'],
      ['last', 'PASS', undefined],
    ],
    'XFAIL is read as the directive, not glued to the name',
  );
  t.equal(r.status, 'FAIL');
  t.equal(exitCodeFor(r), ExitCode.PROBE_FAILED);
});

t.test('plan violations are "plan" findings on the entry they occur in, exit 4 like truncation', async t => {
  const check = (lines: string[], probes: [string, string, string?][], findings: [string, number, string][], what: string) => {
    const r = parseConsole(lines.join('\n'));
    t.same(r.probes.map(p => [p.id, p.status, p.reason]), probes.map(([id, s, reason]) => [id, s, reason]), `${what}: probes`);
    t.same(r.findings.map(f => [f.probe, f.line, f.text]), findings, `${what}: findings`);
    t.ok(r.findings.every(f => f.kind === 'plan'), `${what}: kind plan`);
    t.same([r.status, exitCodeFor(r)], ['CRASHED', ExitCode.KERNEL_PROBLEM], `${what}: CRASHED, exit 4`);
    for (const [id] of findings) t.equal(probe(r, id).findings[0]?.kind, 'plan', `${what}: on ${id}`);
  };
  check(['KTAP version 1', '1..1', 'ok 1 a', 'ok 2 b'], [['a', 'PASS'], ['b', 'FAIL', 'plan: 2 results for a plan of 1 (1..1)']], [['b', 4, '2 results for a plan of 1 (1..1)']], 'more than planned');
  check(['TAP version 13', 'ok 1 a', 'ok 2 b', '1..1'], [['a', 'PASS'], ['b', 'FAIL', 'plan: 2 results for a plan of 1 (1..1)']], [['b', 3, '2 results for a plan of 1 (1..1)']], 'trailing plan');
  check(['KTAP version 1', '1..2', 'ok 1 a', 'ok 1 b'], [['a', 'PASS'], ['b', 'FAIL', 'plan: test number 1 appears more than once']], [['b', 4, 'test number 1 appears more than once']], 'duplicate');
  check(
    ['KTAP version 1', '1..3', 'ok 1 a', 'ok 3 b', 'ok 2 c'],
    [['a', 'PASS'], ['b', 'FAIL', 'plan: test number 3 out of sequence (expected 2)'], ['c', 'FAIL', 'plan: test number 2 out of sequence (expected 4)']],
    [['b', 4, 'test number 3 out of sequence (expected 2)'], ['c', 5, 'test number 2 out of sequence (expected 4)']],
    'out of sequence',
  );
  check(
    ['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: s:compat', '    1..3', '    ok 1 x', '    ok 2 y', 'ok 1 s:compat'],
    [['s:compat', 'FAIL', 'plan: planned 3 result(s), got 2']],
    [['s:compat', 8, 'planned 3 result(s), got 2']],
    'subtest plan not met',
  );
  check(
    ['KTAP version 1', '1..1', '    KTAP version 1', '    # Subtest: exec:k', '    1..1', '        KTAP version 1', '        # Subtest: t', '        1..2', '        ok 1 q', '        ok 1 r', '    ok 1 t', 'ok 1 exec:k'],
    [['exec:k', 'FAIL', 'plan: t: test number 1 appears more than once']],
    [['exec:k', 12, 't: test number 1 appears more than once']],
    'two levels down',
  );
  const cut = parseConsole(['KTAP version 1', '1..2', '    KTAP version 1', '    # Subtest: s', '    1..3', '    ok 1 x'].join('\n'));
  t.same(kinds(cut), ['truncated'], 'a subtest cut short is truncation, not also a plan violation');
  const numberless = parseConsole(['TAP version 13', '1..2', 'ok a', 'ok b'].join('\n'));
  t.same([numberless.status, numberless.findings], ['PASS', []], 'test numbers may be left out');
});

t.test('findings are listed in console order, plan violations among kernel findings', async t => {
  const r = parseConsole(['KTAP version 1', '1..1', 'ok 1 a', 'ok 2 b', '[    1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2'].join('\n'));
  t.same(r.findings.map(f => [f.line, f.kind]), [[4, 'plan'], [5, 'warning']]);
});
