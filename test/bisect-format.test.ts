// The terminal lines of a series bisection that commands/bisect.ts prints after the search:
// prefix names and the evidence of the deciding pair side by side, from a fake tester.
import t from 'tap';
import { changedCases, formatBisectResult, formatBisectText, prefixNamer, sideBySide } from '../harness/bisect/format.ts';
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

t.test('bisect.txt: the changed cases stacked, 72 columns, local paths named by role', async (t) => {
  const r = await searchPrefixes({ patches: 4, tester: new FakeTester((k) => probe(k >= 3 ? 'FAIL' : 'PASS')) });
  t.same(changedCases(r), [
    'what changed from prefix 2 (last good) to 3 (first bad):',
    '  setup',
    '    good: PASS ret=3',
    '    bad:  FAIL ret=-1 errno=22',
    '  sqpoll_cpu',
    '    good: (not reported)',
    '    bad:  SKIP no CPU',
  ]);
  const describe = (k: number) => (k === 0 ? 'the base' : `patch ${k}/4 "a title long enough to need a second line in a mail reply" <${k}@example.org>`);
  const text = formatBisectText(formatBisectResult(r, describe), changedCases(r), {
    what: '"a series" v2 (4 patches)', tree: 'Linux 6.1.0 at 0123456789ab', tester: 'io_uring_setup:compat (build and boot each step)',
    command: 'npx kseries bisect --tree /home/dev/linux --out /home/dev/runs/x', localDirs: [{ dir: '/home/dev/runs/x', name: 'run dir' }, { dir: '/home/dev/linux', name: 'tree' }, { dir: '/home/dev', name: 'home' }],
  });
  const lines = text.split('\n');
  t.same(lines.filter((l) => l.length > 72), [], 'within 72 columns');
  t.notMatch(text, /\/home\/dev/, 'no local path');
  t.match(text, /^kseries bisect: "a series" v2 \(4 patches\)\ntree: Linux 6\.1\.0 at 0123456789ab\nwatching: io_uring_setup:compat/);
  t.match(text, /first change: prefix 3\/4, patch 3\/4 "a title long enough to need a\n {4}second line in a mail reply" <3@example\.org>/, 'wrapped, hanging under the line');
  t.match(text, /reproduce:\n  npx kseries bisect --tree <tree> --out <run dir>\n$/);
  t.same(changedCases(await searchPrefixes({ patches: 4, tester: culpritAt(2) })), [], 'a --run verdict has no cases');
});
