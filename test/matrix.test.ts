import t from 'tap';
import type { ConsoleResult, ProbeResult, Status } from '../harness/model/results.ts';
import { exitCodeFor, parseConsole } from '../harness/console/parse-console.ts';
import { buildMatrix, formatMatrix, mergeResults } from '../harness/report/matrix.ts';
import { kernelsFor } from '../harness/run/variants-run.ts';

const probe = (probe: string, abi: string, status: Status, cases: [string, 'PASS' | 'FAIL' | 'SKIP'][] = []): ProbeResult => ({
  id: `${probe}:${abi}`, probe, abi, status, cases: cases.map(([name, s]) => ({ name, status: s, diagnostics: [] })), diagnostics: [], kmsg: [], findings: [],
});
const result = (probes: ProbeResult[], status: Status = 'PASS'): ConsoleResult => ({ status, ktapFound: true, complete: true, poweredOff: true, probes, findings: [] });

t.test('ABIs are grouped by the kernel they need', async (t) => {
  t.same(kernelsFor(['compat', 'native32', 'native64']).map((k) => `${k.arch.name}:${k.abis.join('+')}`), ['x86_64:compat+native64', 'i386:native32']);
  t.throws(() => kernelsFor(['arm64']), /unknown ABI 'arm64'/);
});

t.test('results of two kernels merge into one: worst status, all probes', async (t) => {
  const m = mergeResults([result([probe('p', 'compat', 'PASS')]), result([probe('p', 'native32', 'FAIL')], 'FAIL')]);
  t.equal(m.status, 'FAIL');
  t.same(m.probes.map((p) => p.id), ['p:compat', 'p:native32']);
});

t.test('cells are marked against the base variant and compat against native32', async (t) => {
  const base = result([
    probe('io_uring_setup', 'compat', 'PASS', [['setup_sqpoll', 'PASS']]),
    probe('io_uring_setup', 'native32', 'PASS', [['setup_sqpoll', 'PASS']]),
    probe('io_uring_setup', 'native64', 'PASS', [['setup_sqpoll', 'PASS']]),
  ]);
  const corrected = result([
    probe('io_uring_setup', 'compat', 'FAIL', [['setup_sqpoll', 'FAIL']]),
    probe('io_uring_setup', 'native32', 'PASS', [['setup_sqpoll', 'PASS']]),
    probe('io_uring_setup', 'native64', 'PASS', [['setup_sqpoll', 'PASS']]),
  ]);
  const m = buildMatrix([{ variant: 'base', result: base }, { variant: 'pavel-corrected', result: corrected }], 'base');
  t.same(m.abis, ['compat', 'native32', 'native64']);
  const cell = (v: string, abi: string) => m.cells.find((c) => c.variant === v && c.abi === abi)!;
  t.equal(cell('pavel-corrected', 'compat').differsFromBase, true);
  t.equal(cell('pavel-corrected', 'compat').compatDiffersFromNative32, true, "Arnd's point: a 32-bit program sees two behaviours");
  t.equal(cell('pavel-corrected', 'native64').differsFromBase, false);
  t.equal(cell('base', 'compat').compatDiffersFromNative32, false);
  t.equal(cell('base', 'compat').differsFromBase, undefined, 'the base is not compared with itself');
  const text = formatMatrix(m).join('\n');
  t.match(text, /^\| probe\s+\| abi\s+\| base\s+\| pavel-corrected\s+\|$/m);
  t.match(text, /^\| io_uring_setup \| compat\s+\| PASS \| FAIL Δbase ≠n32\s+\|$/m);
  t.match(text, /^\| io_uring_setup \| native32 \| PASS \| PASS\s+\|$/m);
  t.match(text, /Δbase: differs from variant base in the same row/);
  t.match(text, /≠n32: compat differs from native32/);
  t.notMatch(text, /kernel-log findings/, 'no legend for a mark that is not shown');
});

t.test('the legend explains only the marks the table shows', async (t) => {
  const same = buildMatrix([{ variant: 'base', result: result([probe('p', 'compat', 'PASS')]) }, { variant: 'v', result: result([probe('p', 'compat', 'PASS')]) }], 'base');
  t.same(formatMatrix(same).filter((l) => l.startsWith('  ')), [], 'nothing marked, no legend');
  const withFinding = probe('p', 'compat', 'PASS');
  withFinding.findings = [{ kind: 'warning', line: 3, text: 'WARNING: x', probe: 'p:compat' }];
  const marked = buildMatrix([{ variant: 'base', result: result([withFinding]) }], 'base');
  t.match(formatMatrix(marked).join('\n'), /PASS !.*\n  !: kernel-log findings attached/s);
});

t.test('a case-level difference counts even when the probe status is the same', async (t) => {
  const a = result([probe('p', 'compat', 'FAIL', [['x', 'FAIL'], ['y', 'PASS']])]);
  const b = result([probe('p', 'compat', 'FAIL', [['x', 'PASS'], ['y', 'FAIL']])]);
  const m = buildMatrix([{ variant: 'base', result: a }, { variant: 'v', result: b }], 'base');
  t.equal(m.cells.find((c) => c.variant === 'v')!.differsFromBase, true);
});

t.test('a probe missing from one run is shown as MISSING, never silently dropped', async (t) => {
  const m = buildMatrix([{ variant: 'base', result: result([probe('p', 'compat', 'PASS'), probe('q', 'compat', 'PASS')]) }, { variant: 'v', result: result([probe('p', 'compat', 'PASS')]) }], 'base');
  t.equal(m.cells.find((c) => c.variant === 'v' && c.probe === 'q')!.status, 'MISSING');
});

t.test('--exec entries get their own rows, ABI = the guest arch that ran them; no phantom MISSING cells', async (t) => {
  // What the init prints on each kernel of one variant: the probes for that kernel's ABIs, then the --exec entry.
  const guest = (machine: string, abi: string, execStatus: string) =>
    parseConsole(
      [
        'KTAP version 1',
        `# kseries-init: uname 6.1.0 ${machine}`,
        '1..2',
        '    KTAP version 1',
        `    # Subtest: readv_writev:${abi}`,
        '    1..1',
        '    ok 1 readv',
        `ok 1 readv_writev:${abi}`,
        '    KTAP version 1',
        '    # Subtest: exec:repro',
        `${execStatus} 2 exec:repro`,
        '# kseries-init: done',
      ].join('\n'),
    );
  const x86 = guest('x86_64', 'native64', 'ok');
  const i386 = guest('i686', 'native32', 'not ok');
  t.same(x86.probes.map((p) => [p.probe, p.abi]), [['readv_writev', 'native64'], ['exec:repro', 'x86_64']]);
  t.same(i386.probes.map((p) => [p.probe, p.abi]), [['readv_writev', 'native32'], ['exec:repro', 'i386']], 'i686 is the i386 kernel');
  const base = mergeResults([x86, i386]);
  const m = buildMatrix([{ variant: 'base', result: base }, { variant: 'v', result: mergeResults([guest('x86_64', 'native64', 'ok'), guest('i686', 'native32', 'ok')]) }], 'base');
  t.same(m.rows, [
    { probe: 'exec:repro', abi: 'i386' },
    { probe: 'exec:repro', abi: 'x86_64' },
    { probe: 'readv_writev', abi: 'native32' },
    { probe: 'readv_writev', abi: 'native64' },
  ]);
  t.equal(m.cells.length, 8, 'one cell per reported row and variant');
  t.same(m.cells.filter((c) => c.status === 'MISSING'), [], 'nothing is missing');
  t.notOk(m.cells.some((c) => c.abi === ''), 'no empty ABI');
  t.equal(m.cells.find((c) => c.variant === 'v' && c.probe === 'exec:repro' && c.abi === 'i386')!.differsFromBase, true, 'the i386 run of the program changed');
  const text = formatMatrix(m).join('\n');
  t.match(text, /^\| exec:repro\s+\| i386\s+\| FAIL\s+\| PASS Δbase\s+\|$/m);
  t.notMatch(text, /MISSING/);
  t.equal(text.split('\n').filter((l) => l.startsWith('| exec:repro')).length, 2, 'each kernel\'s run once');
});

t.test('a real gap is still MISSING: a reported pair one variant lacks', async (t) => {
  const m = buildMatrix([{ variant: 'base', result: result([probe('p', 'compat', 'PASS'), probe('q', 'native64', 'PASS')]) }, { variant: 'v', result: result([probe('p', 'compat', 'PASS')]) }], 'base');
  t.same(m.rows, [{ probe: 'p', abi: 'compat' }, { probe: 'q', abi: 'native64' }], 'no p:native64 or q:compat rows');
  t.same(m.cells.map((c) => `${c.variant} ${c.probe}:${c.abi} ${c.status}`), ['base p:compat PASS', 'base q:native64 PASS', 'v p:compat PASS', 'v q:native64 MISSING']);
});

t.test('a merged status climbs the same ladder as its exit code', async (t) => {
  const hung: ConsoleResult = { ...result([probe('p', 'compat', 'TIMEOUT')], 'TIMEOUT'), complete: false, findings: [{ kind: 'hang', line: 9, text: 'guest hung' }] };
  const cut: ConsoleResult = { ...result([probe('p', 'native32', 'CRASHED')], 'CRASHED'), complete: false, findings: [{ kind: 'truncated', line: 5, text: 'ended' }] };
  const m = mergeResults([hung, cut]);
  t.same([m.status, exitCodeFor(m)], ['TIMEOUT', 124], 'a hang outranks truncation in both');
  t.equal(mergeResults([result([]), { ...result([]), status: 'INFRA' }]).status, 'INFRA');
  t.equal(mergeResults([result([probe('p', 'compat', 'PASS')]), result([probe('p', 'native32', 'SKIP')])]).status, 'PASS');
});
