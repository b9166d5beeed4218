import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandJudge, judgeTester, observationJudge, verdictForExit, verdictObservation } from '../harness/bisect/judge.ts';
import type { StepObservation } from '../harness/bisect/search.ts';
import { searchPrefixes } from '../harness/bisect/search.ts';
import { removeTempDirs, tempDir } from './fixtures/bisect/repo.ts';

t.teardown(removeTempDirs);

t.test('exit statuses follow git bisect run', async (t) => {
  const table: [number, string][] = [
    [0, 'good'],
    [1, 'bad'],
    [2, 'bad'],
    [124, 'bad'],
    [125, 'skip'],
    [126, 'bad'],
    [127, 'bad'],
    [128, 'infra'],
    [137, 'infra'],
    [200, 'infra'],
    [255, 'infra'],
    [-1, 'infra'],
  ];
  for (const [code, want] of table) {
    const v = verdictForExit(code);
    t.equal(typeof v === 'string' ? v : 'infra', want, `exit ${code} → ${want}`);
  }
});

t.test('commandJudge runs sh -c in the given directory', async (t) => {
  const dir = tempDir('judge');
  writeFileSync(join(dir, 'value'), '4\n');
  const lessThan = (n: number) => commandJudge(`test $(cat value) -lt ${n}`, dir);
  t.equal(await lessThan(7)('x'), 'good', 'cwd is the directory: value is read there');
  t.equal(await lessThan(3)('x'), 'bad');
  t.equal(await commandJudge('exit 125', dir)('x'), 'skip');
  t.equal(await commandJudge('test "$FOO" = bar', dir, { env: { FOO: 'bar' } })('x'), 'good', 'extra environment reaches the command');

  const high = await commandJudge('echo "qemu: no kvm" >&2; exit 200', dir)('x');
  t.same(high, { infra: '`echo "qemu: no kvm" >&2; exit 200` exited with 200: qemu: no kvm' }, 'exit ≥ 128 is infra, with the last stderr line');

  const killed = await commandJudge('kill -KILL $$', dir)('x');
  t.match(killed, { infra: /was killed/ }, 'a signal is infra');

  const missing = await commandJudge('true', join(dir, 'no-such-dir'))('x');
  t.match(missing, { infra: /could not run `true`/ }, 'a command that cannot start is infra');

  const slow = await commandJudge('sleep 5', dir, { timeoutMs: 200 })('x');
  t.match(slow, { infra: /timed out after 200 ms/ });
});

t.test('verdicts as prefix-search observations', async (t) => {
  t.same(verdictObservation('good'), { kind: 'value', value: 'good' });
  t.same(verdictObservation('bad'), { kind: 'value', value: 'bad' });
  t.match(verdictObservation('skip'), { kind: 'skip', reason: /exit 125/ });
  t.same(verdictObservation({ infra: 'disk full' }), { kind: 'infra', reason: 'disk full' });
});

t.test('the same command judge drives a prefix search: the caller applies the prefix, then runs CMD', async (t) => {
  const dir = tempDir('prefix');
  const applied: number[] = [];
  // "Applying prefix k" here writes k; patch 5 is where the value crosses the threshold, prefix 3 does not build.
  const checkoutPrefix = async (k: number) => {
    applied.push(k);
    writeFileSync(join(dir, 'value'), `${k}\n`);
    return `prefix-${k}`;
  };
  const tester = judgeTester(checkoutPrefix, commandJudge('v=$(cat value); [ "$v" -eq 3 ] && exit 125; test "$v" -lt 5', dir));
  const res = await searchPrefixes({ patches: 6, tester });
  t.equal(res.status, 'found');
  t.equal(res.firstBad, 5);
  t.same(applied, [0, 6, 3, 4, 5], 'ends, middle 3 (exit 125: skipped), its neighbour 4, then 5');
  t.equal(res.baseValue, 'good');
  t.equal(res.steps.find((s) => s.k === 3)?.decided, 'skip');
});

t.test('observationJudge: the first value seen (the good end) is good, any other bad; skips and infra pass through', async (t) => {
  const seen: Record<string, StepObservation> = {
    g: { kind: 'value', value: 'PASS:setup=PASS' },
    b: { kind: 'value', value: 'FAIL:setup=FAIL' },
    c: { kind: 'value', value: 'CRASH (probe did not report)' },
    s: { kind: 'skip', reason: 'build failed' },
    i: { kind: 'infra', reason: 'qemu missing' },
  };
  const asked: string[] = [];
  const judge = observationJudge(async (commit) => (asked.push(commit), seen[commit]!));
  t.equal(await judge('s'), 'skip', 'a skip sets no reference');
  t.equal(await judge('g'), 'good', 'the first value is the reference');
  t.equal(await judge('b'), 'bad');
  t.equal(await judge('c'), 'bad', 'another value is bad too: the question is "a change"');
  t.equal(await judge('g'), 'good');
  t.same(await judge('i'), { infra: 'qemu missing' });
  t.same(asked, ['s', 'g', 'b', 'c', 'g', 'i']);
});
