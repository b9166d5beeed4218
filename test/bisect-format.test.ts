// The terminal lines of a series bisection that commands/bisect.ts prints after the search:
// prefix names and the evidence of the deciding pair side by side, from a fake tester.
import t from 'tap';
import { prefixNamer, sideBySide } from '../harness/bisect/format.ts';
import { searchPrefixes, type StepObservation } from '../harness/bisect/search.ts';
import type { PatchList } from '../harness/variant/patches.ts';
import { culpritAt, FakeTester } from './fixtures/bisect/fake-tester.ts';

/** What observeProbe returns for a probe: a fingerprint with the cases as evidence. */
const probe = (status: 'PASS' | 'FAIL'): StepObservation => ({
  kind: 'value',
  value: `${status}:setup=${status}`,
  evidence: { status, cases: [{ name: 'setup', status, evidence: status === 'PASS' ? 'ret=3' : 'ret=-1 errno=22' }, ...(status === 'FAIL' ? [{ name: 'sqpoll_cpu', status: 'SKIP', evidence: 'no CPU' }] : [])], runDir: '/r', buildCacheHit: false },
});

t.test('sideBySide puts the cases of the last good and the first bad prefix next to each other', async (t) => {
  const r = await searchPrefixes({ patches: 4, tester: new FakeTester((k) => probe(k >= 3 ? 'FAIL' : 'PASS')) });
  t.equal(r.status, 'found');
  t.same(sideBySide(r), [
    'evidence: last good (prefix 2) | first bad (prefix 3)',
    `  setup       ${'PASS ret=3'.padEnd(60)} | FAIL ret=-1 errno=22`,
    `  sqpoll_cpu  ${'-'.padEnd(60)} | SKIP no CPU`,
  ]);
});

t.test('sideBySide says nothing without cases or without the deciding pair', async (t) => {
  t.same(sideBySide(await searchPrefixes({ patches: 4, tester: culpritAt(2) })), [], 'evidence without cases (a --run verdict)');
  t.same(sideBySide(await searchPrefixes({ patches: 4, tester: culpritAt(undefined) })), [], 'no change: no pair');
});

t.test('prefixNamer names the base and each patch with its Message-ID', async (t) => {
  const patch = (index: number, total?: number) => ({ index, ...(total ? { total } : {}), title: `io_uring: step ${index}`, message: { messageId: `${index}@example.org` } });
  const list = { patches: [patch(1, 5), patch(2)], series: [], describe: 'test' } as unknown as PatchList;
  const name = prefixNamer(list);
  t.equal(name(0), 'the base');
  t.equal(name(1), 'patch 1/5 "io_uring: step 1" <1@example.org>');
  t.equal(name(2), 'patch 2/2 "io_uring: step 2" <2@example.org>', 'no total: the length of the list');
});
