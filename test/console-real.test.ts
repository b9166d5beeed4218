// The parser against a real recorded boot, not a hand-written fixture.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor, parseConsole } from '../harness/console/parse-console.ts';

const log = readFileSync(join(import.meta.dirname, 'fixtures/console/real-debian-6.1-tcg.log'), 'utf8');

t.test('recorded Debian 6.1 boot: six passing subtests, no findings, powered off', async (t) => {
  t.match(log, /\r\n/, 'the recording keeps the serial console\'s CRLF endings');
  const r = parseConsole(log);
  t.equal(r.status, 'PASS');
  t.equal(exitCodeFor(r), 0);
  t.same([r.ktapFound, r.complete, r.poweredOff], [true, true, true]);
  t.same(r.findings, []);
  t.same(r.probes.map((p) => `${p.probe}/${p.abi}/${p.status}`).sort(), [
    'io_uring_readv/compat/PASS', 'io_uring_readv/native64/PASS',
    'io_uring_setup/compat/PASS', 'io_uring_setup/native64/PASS',
    'readv_writev/compat/PASS', 'readv_writev/native64/PASS',
  ]);
  const sq = r.probes.find((p) => p.id === 'io_uring_readv:compat')!.cases.find((c) => c.name.includes('sqpoll'))!;
  t.equal(sq.status, 'PASS');
  t.match(sq.diagnostics.join('\n'), /identical/, 'the byte-for-byte comparison is the evidence');
  // The init echoed a kernel message logged while io_uring_readv (compat) ran; it must land there.
  const withKmsg = r.probes.filter((p) => p.kmsg.some((k) => k.includes('POSIX timer')));
  t.same(withKmsg.map((p) => p.id), ['io_uring_readv:compat']);
});

t.test('the same boot cut off mid-probe is truncated and blamed on that probe', async (t) => {
  const cut = log.slice(0, log.indexOf('ok 1 readv_inline_plain_fd'));
  const r = parseConsole(cut);
  t.equal(r.complete, false);
  t.equal(exitCodeFor(r), 4);
  const trunc = r.findings.find((f) => f.kind === 'truncated');
  t.equal(trunc?.probe, 'io_uring_readv:compat');
});

t.test('a printk glued into the middle of a TAP line is split off (seen on a real v5.9.1 boot)', async (t) => {
  // The kernel's "random: fast init done" landed right after "ok 2 readv_async".
  const glued = log.replace('    ok 2 writev\r\n', '    ok 2 writev[    0.827214] random: fast init done\r\n');
  t.not(glued, log, 'the fixture has the line to glue onto');
  const clean = parseConsole(log);
  const r = parseConsole(glued);
  const names = (x: typeof r) => x.probes.find((p) => p.id === 'readv_writev:compat')!.cases.map((c) => `${c.name}=${c.status}`);
  t.same(names(r), names(clean), 'the case keeps its name');
  t.equal(r.status, 'PASS');
  t.same(r.findings, []);
});
