import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseConsole } from '../harness/console/parse-console.ts';
import { formatElapsed, formatResultTable } from '../harness/report/summary.ts';
import { formatDuration } from '../harness/util/duration.ts';
import { RESULTS_SCHEMA, serializeResults, toResultsJson } from '../harness/report/json.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/console/${name}`, import.meta.url), 'utf8');
const ESC = '\x1b';

t.test('table: all-pass', async t => {
  const lines = formatResultTable(parseConsole(fixture('all-pass.log')));
  t.equal(lines[0], 'KTAP results: 6 probes — 6 PASS · complete · shut down');
  t.equal(lines.length, 8, 'headline, six rows, status');
  t.equal(lines[1], '  PASS     readv_writev:compat');
  t.equal(lines.at(-1), 'Status: PASS (exit 0)');
  t.notOk(lines.some(l => l.includes(ESC)), 'no colour unless asked');
});

t.test('table: failing cases with their first diagnostic', async t => {
  const lines = formatResultTable(parseConsole(fixture('probe-fail.log')));
  t.same(lines, [
    'KTAP results: 3 probes — 2 PASS, 1 FAIL · complete · shut down',
    '  PASS     readv_writev:compat',
    '  FAIL     readv_writev:native64  exit status 1',
    '             not ok readv — readv: ret=-1 errno=14 EFAULT (Bad address)',
    '             not ok pwritev_preadv — pwritev at 4GiB+17: ret=16909',
    '  PASS     io_uring_setup:compat',
    'Status: FAIL (exit 1)',
  ]);
  const capped = formatResultTable(parseConsole(fixture('probe-fail.log')), { maxCases: 1 });
  t.ok(capped.includes('             … 1 more failing case(s)'));
  t.notOk(capped.some(l => l.includes('pwritev_preadv —')));
});

t.test('table: findings with probe and console line', async t => {
  const lines = formatResultTable(parseConsole(fixture('warning-splat.log')), { width: 200 });
  t.ok(lines.includes('  PASS     io_uring_readv:compat    [! cut-here, warning]'), 'the probe row flags its findings');
  const i = lines.indexOf('Findings:');
  t.ok(i > 0);
  t.same(lines.slice(i + 1, i + 3), [
    '  line 93    cut-here     io_uring_readv:compat: ------------[ cut here ]------------',
    '  line 94    warning      io_uring_readv:compat: WARNING: CPU: 0 PID: 56 at io_uring/rw.c:412 io_import_iovec+0x1a5/0x1f0',
  ]);
  t.equal(lines.at(-1), 'Status: CRASHED (exit 4)');
});

t.test('table: truncation, hang, no KTAP', async t => {
  const panic = formatResultTable(parseConsole(fixture('panic-truncated.log')));
  t.equal(panic[0], 'KTAP results: 6 probes — 5 PASS, 1 CRASHED · INCOMPLETE · no clean shutdown');
  t.ok(panic.some(l => l.startsWith('  CRASHED  io_uring_readv:native64  no result line') && l.endsWith('[! oops, panic, truncated]')));
  t.ok(panic.includes('  line 143   panic        io_uring_readv:native64: Kernel panic - not syncing: Fatal exception'));

  const hang = formatResultTable(parseConsole(fixture('silent-hang.log')));
  t.ok(hang.includes('  line 122   hang         io_uring_readv:native64: guest hung: no console output for 180 s; QEMU was killed'), 'at the runner\'s mark');
  t.equal(hang.at(-1), 'Status: TIMEOUT (exit 124)');

  const none = formatResultTable(parseConsole(fixture('no-ktap.log')), { width: 400 });
  t.equal(none[0], 'KTAP results: 0 probes · no KTAP output · shut down');
  t.match(none[2], /^ {2}line 18 {4}truncated {4}\(no probe\): no KTAP\/TAP header .*Bail out! \/kseries\/plan/);
  t.equal(none.at(-1), 'Status: CRASHED (exit 4)');
});

t.test('table: SKIP and TIMEOUT reasons, kselftest ids', async t => {
  const st = formatResultTable(parseConsole(fixture('skip-timeout.log')));
  t.ok(st.includes('  SKIP     io_uring_setup:native64  io_uring_setup: ENOSYS (kernel built without CONFIG_IO_URING)'));
  t.ok(st.includes('  TIMEOUT  exec:repro               after 30 s'));
  const ks = formatResultTable(parseConsole(fixture('kselftest-tap13.log')));
  t.ok(ks.includes('  TIMEOUT  selftests: timers: inconsistency-check  45 seconds'));
  t.equal(ks[0], 'KTAP results: 4 probes — 1 PASS, 1 FAIL, 1 TIMEOUT, 1 SKIP · complete · shut down');
});

t.test('table: width and colour', async t => {
  const r = parseConsole(fixture('warning-splat.log'));
  const narrow = formatResultTable(r, { width: 60 });
  for (const l of narrow) t.ok(l.length <= 60, `fits 60 columns: ${JSON.stringify(l)}`);
  t.ok(narrow.some(l => l.endsWith('…')), 'long text is cut with an ellipsis');

  const coloured = formatResultTable(r, { color: true });
  t.ok(coloured.some(l => l.includes(`${ESC}[32mPASS`)), 'PASS is green');
  t.ok(coloured.some(l => l.includes(`${ESC}[31m[! cut-here, warning]${ESC}[0m`)), 'finding marks are red and intact');
  t.ok(coloured.at(-1)?.includes(`${ESC}[1m${ESC}[31mCRASHED${ESC}[0m`), 'CRASHED is bold red');
  const plain = coloured.map(l => l.replace(/\x1b\[[0-9;]*m/g, ''));
  t.same(plain, formatResultTable(r), 'colour adds codes and nothing else');
});

t.test('durations and the elapsed line', async t => {
  t.equal(formatDuration(0), '0ms');
  t.equal(formatDuration(42), '42ms');
  t.equal(formatDuration(300), '0.3s');
  t.equal(formatDuration(1234), '1.2s');
  t.equal(formatDuration(59_940), '59.9s');
  t.equal(formatDuration(59_960), '1m00s', 'no "60.0s"');
  t.equal(formatDuration(192_000), '3m12s');
  t.equal(formatDuration(3_849_000), '1h04m09s');
  t.equal(
    formatElapsed([
      { name: 'config', ms: 1200 },
      { name: 'build', ms: 192_000 },
      { name: 'image', ms: 300 },
      { name: 'boot', ms: 1700 },
    ]),
    'config 1.2s · build 3m12s · image 0.3s · boot 1.7s · total 3m15s',
  );
  t.equal(formatElapsed([]), 'total 0ms');
  const c = formatElapsed([{ name: 'boot', ms: 1700 }], { color: true });
  t.equal(c.replace(/\x1b\[[0-9;]*m/g, ''), 'boot 1.7s · total 1.7s');
  t.ok(c.includes(ESC));
});

t.test('results JSON', async t => {
  const r = parseConsole(fixture('warning-splat.log'));
  const meta = { arch: 'x86_64', kernel: 'v6.1', stages: [{ name: 'boot', ms: 1700 }] };
  const j = toResultsJson(r, meta);
  t.same(Object.keys(j), ['kind', 'schema', 'run', 'status', 'exitCode', 'probes', 'findings']);
  t.equal(j.schema, RESULTS_SCHEMA);
  t.equal(j.schema, 1);
  t.equal(j.run, meta, 'metadata passed through as given');
  t.equal(j.status, 'CRASHED');
  t.equal(j.exitCode, 4);
  t.equal(j.probes.length, 6);
  t.same(j.findings.map(f => [f.kind, f.line, f.probe]), [
    ['cut-here', 93, 'io_uring_readv:compat'],
    ['warning', 94, 'io_uring_readv:compat'],
  ]);

  const text = serializeResults(r, meta);
  t.ok(text.endsWith('}\n'));
  const back = JSON.parse(text);
  t.same(back, JSON.parse(JSON.stringify(j)), 'round-trips');
  t.equal(back.probes[4].findings[1].text, 'WARNING: CPU: 0 PID: 56 at io_uring/rw.c:412 io_import_iovec+0x1a5/0x1f0');

  const infra = toResultsJson(parseConsole(''), { why: 'qemu failed to start' }, { status: 'INFRA', exitCode: 3 });
  t.same([infra.status, infra.exitCode], ['INFRA', 3], 'the caller can override');
  t.same(toResultsJson(parseConsole(fixture('all-pass.log')), {}).exitCode, 0);
});
