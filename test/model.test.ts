import t from 'tap';
import { ALL_ABIS, ARCHES, DEFAULT_ABIS, archForAbi } from '../harness/model/arch.ts';
import { decidingLines, fingerprint } from '../harness/model/results.ts';
import { evidenceOf } from '../harness/bisect/kernel-tester.ts';

t.test('the ABI lists come from the arch data', async (t) => {
  t.same([...ALL_ABIS].sort(), ['compat', 'native32', 'native64', 'x32']);
  t.same(DEFAULT_ABIS, ['compat', 'native64'], 'the x86_64 kernel runs compat and native64 by default, x32 when asked');
  t.equal(archForAbi('x32'), ARCHES.x86_64, 'x32 runs on the x86_64 kernel');
  for (const a of Object.values(ARCHES)) for (const abi of a.defaultAbis) t.ok(abi in a.probeAbis, `${a.name}'s default ${abi} is one of its ABIs`);
  for (const abi of ALL_ABIS) t.ok(archForAbi(abi), `${abi} has a kernel`);
  t.equal(ALL_ABIS.length, Object.values(ARCHES).reduce((n, a) => n + Object.keys(a.probeAbis).length, 0), 'no ABI is listed twice');
  t.equal(archForAbi('arm64'), undefined, 'an ABI no arch has is unknown');
});

t.test('fingerprint: the status and every case, nothing else', async (t) => {
  const p = (status: 'PASS' | 'FAIL', c: 'PASS' | 'FAIL', diag: string) => ({
    id: 'x:compat', probe: 'x', abi: 'compat', status, kmsg: [], findings: [], diagnostics: [diag],
    cases: [{ name: 'a', status: c, diagnostics: [diag] }],
  });
  t.equal(fingerprint(p('PASS', 'PASS', 'ret=1')), 'PASS a=PASS');
  t.equal(fingerprint(p('PASS', 'PASS', 'ret=1')), fingerprint(p('PASS', 'PASS', 'ret=2')), 'diagnostics do not count');
  t.not(fingerprint(p('FAIL', 'FAIL', '')), fingerprint(p('FAIL', 'PASS', '')), 'a case status does');
});

t.test('decidingLines: the first tier that matches, at most max lines, else the first or last lines', async (t) => {
  const d = ['setup(entries=8)', 'ret=3', 'errno=EINVAL', 'data differ at 4', 'ret=-1'];
  t.same(decidingLines(d, [[/identical|differ/], [/errno=/]], { max: 1, fallback: 'first' }), ['data differ at 4']);
  t.same(decidingLines(d, [[/nope/, /ret=/]], { max: 3, fallback: 'last' }), ['ret=3', 'ret=-1'], 'any pattern of a tier');
  t.same(decidingLines(d, [[/nope/]], { max: 1, fallback: 'first' }), ['setup(entries=8)']);
  t.same(decidingLines(d, [[/nope/]], { max: 2, fallback: 'last' }), ['data differ at 4', 'ret=-1']);
  t.same(decidingLines([], [[/x/]], { max: 1, fallback: 'first' }), []);
});

t.test("bisect evidence: each case's one deciding line (comparison, errno=, ret=, else the first)", async (t) => {
  const c = (name: string, diagnostics: string[]) => ({ name, status: 'FAIL', diagnostics });
  const p = { probe: 'p', abi: 'compat', status: 'FAIL', cases: [c('a', ['x', 'ret=-1', 'errno=EINVAL']), c('b', ['x', 'y']), c('c', [])], diagnostics: [], findings: [] };
  const e = evidenceOf(p as never, '/run', true);
  t.same(e.cases.map((x) => x.evidence), ['errno=EINVAL', 'x', '']);
  t.equal(e.buildCacheHit, true);
});
