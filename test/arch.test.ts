import t from 'tap';
import { ALL_ABIS, ARCHES, DEFAULT_ABIS, archForAbi } from '../harness/model/arch.ts';

t.test('the ABI lists come from the arch data', async (t) => {
  t.same([...ALL_ABIS].sort(), ['compat', 'native32', 'native64']);
  t.same(DEFAULT_ABIS, ['compat', 'native64'], 'the x86_64 kernel runs both by default');
  for (const abi of ALL_ABIS) t.ok(archForAbi(abi), `${abi} has a kernel`);
  t.equal(ALL_ABIS.length, Object.values(ARCHES).reduce((n, a) => n + Object.keys(a.probeAbis).length, 0), 'no ABI is listed twice');
  t.equal(archForAbi('x32'), undefined, 'an ABI no arch has is unknown');
});
