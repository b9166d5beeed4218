import t from 'tap';
import { ALL_ABIS, ARCHES, DEFAULT_ABIS, archForAbi } from '../harness/model/arch.ts';
import { fingerprint } from '../harness/model/results.ts';

t.test('the ABI lists come from the arch data', async (t) => {
  t.same([...ALL_ABIS].sort(), ['compat', 'native32', 'native64']);
  t.same(DEFAULT_ABIS, ['compat', 'native64'], 'the x86_64 kernel runs both by default');
  for (const abi of ALL_ABIS) t.ok(archForAbi(abi), `${abi} has a kernel`);
  t.equal(ALL_ABIS.length, Object.values(ARCHES).reduce((n, a) => n + Object.keys(a.probeAbis).length, 0), 'no ABI is listed twice');
  t.equal(archForAbi('x32'), undefined, 'an ABI no arch has is unknown');
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
