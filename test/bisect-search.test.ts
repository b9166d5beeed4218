import t, { type Test } from 'tap';
import { formatBisectResult } from '../harness/bisect/format.ts';
import { decideStep, middleStepBound, nextPrefix, observationBudget, searchPrefixes, type PrefixSearchResult } from '../harness/bisect/search.ts';
import { KseriesError } from '../harness/util/errors.ts';
import { culpritAt, FAIL, FakeTester, infra, PASS, skip, val } from './fixtures/bisect/fake-tester.ts';

const log2ceil = (x: number) => Math.ceil(Math.log2(x));

/** The invariants of every search without skips: both ends first, then at most ⌈log2 N⌉ middle steps. */
function checkCounts(t: Test, n: number, res: PrefixSearchResult, tester: FakeTester): void {
  t.equal(tester.calls.length, res.observations, 'observations counts every observe() call');
  t.same(tester.calls.slice(0, 2), [0, n], 'the base and the full series are observed first');
  const middle = res.steps.length - 2;
  t.ok(middle >= 0 && middle <= middleStepBound(n), `${middle} middle steps ≤ ⌈log2 ${n}⌉ = ${middleStepBound(n)}`);
  t.ok(middle <= log2ceil(n + 1), `and ≤ ⌈log2(N+1)⌉ = ${log2ceil(n + 1)}`);
  t.ok(res.observations <= observationBudget(n), 'within the advertised budget');
}

t.test('the middle-step bound', async (t) => {
  const table: [number, number][] = [[1, 0], [2, 1], [3, 2], [4, 2], [5, 3], [8, 3], [9, 4], [16, 4], [17, 5], [1000, 10]];
  for (const [n, bound] of table) {
    t.equal(middleStepBound(n), bound, `N=${n}`);
    t.ok(bound <= log2ceil(n + 1), `N=${n}: never above ⌈log2(N+1)⌉`);
  }
  t.equal(middleStepBound(5), 3, 'N=5: at most 3 middle steps');
  t.equal(observationBudget(5), 5);
  t.equal(observationBudget(5, 3), 15, 'repeat multiplies the budget');
});

t.test('table: first, last, middle and no culprit for N=1,2,5,8,16', async (t) => {
  const cases: { n: number; culprit: number | undefined; name: string }[] = [];
  for (const n of [1, 2, 5, 8, 16]) {
    cases.push({ n, culprit: 1, name: 'first patch' }, { n, culprit: n, name: 'last patch' }, { n, culprit: undefined, name: 'no patch' });
    if (n > 2) cases.push({ n, culprit: Math.ceil(n / 2), name: 'middle patch' }, { n, culprit: Math.ceil(n / 2) + 1, name: 'just past the middle' });
  }
  for (const c of cases) {
    t.test(`N=${c.n}, ${c.name} bad`, async (t) => {
      const tester = culpritAt(c.culprit);
      const res = await searchPrefixes({ patches: c.n, tester });
      checkCounts(t, c.n, res, tester);
      t.equal(res.confidence, 'certain');
      t.equal(res.baseValue, PASS);
      if (c.culprit === undefined) {
        t.equal(res.status, 'no-change');
        t.equal(res.steps.length, 2, 'nothing to search after the ends agree');
        t.equal(res.firstBad, undefined);
        return;
      }
      t.equal(res.status, 'found');
      t.equal(res.firstBad, c.culprit);
      t.equal(res.lastGood?.k, c.culprit - 1, 'last good is the prefix just before');
      t.equal(res.lastGood?.decided, 'good');
      t.equal(res.lastGood?.value, PASS);
      t.equal(res.firstBadStep?.k, c.culprit);
      t.equal(res.firstBadStep?.value, FAIL);
      t.same(res.firstBadStep?.evidence, { log: `console of ${FAIL}` }, 'the decisive step carries its evidence');
    });
  }
});

t.test('every culprit position of every N up to 20 is found within the bound', async (t) => {
  let checked = 0;
  for (let n = 1; n <= 20; n++) {
    for (let culprit = 1; culprit <= n; culprit++) {
      const tester = culpritAt(culprit);
      const res = await searchPrefixes({ patches: n, tester });
      if (res.status !== 'found' || res.firstBad !== culprit || res.steps.length - 2 > middleStepBound(n) || new Set(tester.calls).size !== tester.calls.length) {
        t.fail(`N=${n} culprit=${culprit}: ${res.status} ${res.firstBad} after ${tester.calls.join(',')}`);
      }
      checked++;
    }
  }
  t.equal(checked, 210, 'all positions tried, none failed, no prefix observed twice');
});

t.test('a middle prefix that differs from both base and full still counts as the change', async (t) => {
  const tester = new FakeTester((k) => val(k < 3 ? PASS : k < 6 ? 'FAIL:setup_default=FAIL' : FAIL));
  const res = await searchPrefixes({ patches: 8, tester });
  t.equal(res.status, 'found');
  t.equal(res.firstBad, 3);
  t.equal(res.firstBadStep?.value, 'FAIL:setup_default=FAIL', 'it is its own value that is reported, not the full series\'');
  checkCounts(t, 8, res, tester);
});

t.test('a base that fails and a full series that passes: the first change is still found', async (t) => {
  const tester = new FakeTester((k) => val(k >= 4 ? PASS : FAIL));
  const res = await searchPrefixes({ patches: 5, tester });
  t.equal(res.status, 'found');
  t.equal(res.firstBad, 4);
  t.equal(res.baseValue, FAIL);
  t.equal(res.firstBadStep?.decided, 'bad', '"bad" means "differs from the base"');
});

t.test('skips', async (t) => {
  t.test('a skip that can be stepped around is found', async (t) => {
    const tester = culpritAt(6, [4]);
    const res = await searchPrefixes({ patches: 8, tester });
    t.equal(res.status, 'found');
    t.equal(res.firstBad, 6);
    t.same(tester.calls, [0, 8, 4, 5, 6], 'mid 4 skipped, its neighbour 5 tested next');
    t.same(res.steps.map((s) => [s.k, s.decided]), [[0, 'good'], [8, 'bad'], [4, 'skip'], [5, 'good'], [6, 'bad']]);
    t.equal(res.confidence, 'certain', 'a clean skip is not a disagreement');
  });

  t.test('build failures around the culprit leave the range it could not split', async (t) => {
    const tester = culpritAt(5, [4, 5]);
    const res = await searchPrefixes({ patches: 8, tester });
    t.equal(res.status, 'ambiguous');
    t.same(res.candidates, [4, 5, 6], 'the first change is 4, 5 or 6');
    t.equal(res.lastGood?.k, 3);
    t.equal(res.firstBadStep?.k, 6);
    t.same(tester.calls, [0, 8, 4, 5, 3, 6], 'mid 4, then 5 and 3 alternately, then 6');
    t.match(res.reason, /prefixes 4, 5 could not be tested/);
    t.equal(res.firstBad, undefined);
  });

  t.test('the culprit alone does not build: it and the next bad prefix are the candidates', async (t) => {
    const tester = culpritAt(3, [3]);
    const res = await searchPrefixes({ patches: 5, tester });
    t.equal(res.status, 'ambiguous');
    t.same(res.candidates, [3, 4]);
    t.same(tester.calls, [0, 5, 2, 3, 4]);
  });

  t.test('a base that does not build: nothing can be compared', async (t) => {
    const tester = culpritAt(2, [0]);
    const res = await searchPrefixes({ patches: 4, tester });
    t.equal(res.status, 'ambiguous');
    t.same(res.candidates, [1, 2, 3, 4]);
    t.match(res.reason, /base \(prefix 0\) could not be tested: build of prefix 0 failed/);
    t.same(tester.calls, [0], 'the full series is not even tried');
  });

  t.test('a full series that does not build', async (t) => {
    const tester = culpritAt(2, [4]);
    const res = await searchPrefixes({ patches: 4, tester });
    t.equal(res.status, 'ambiguous');
    t.same(res.candidates, [1, 2, 3, 4]);
    t.match(res.reason, /full series \(prefix 4\) could not be tested/);
    t.same(tester.calls, [0, 4]);
  });
});

t.test('repeat and flaky steps', async (t) => {
  t.test('K=3 with a 2:1 disagreement is decided by majority, with confidence 2/3', async (t) => {
    const tester = new FakeTester((k) => (k === 4 ? [val(FAIL), val(PASS), val(FAIL)] : val(k >= 4 ? FAIL : PASS)));
    const res = await searchPrefixes({ patches: 8, tester, repeat: 3 });
    t.equal(res.status, 'found');
    t.equal(res.firstBad, 4);
    t.same(res.confidence, { weakestStep: 4, fraction: 2 / 3 });
    const step = res.steps.find((s) => s.k === 4)!;
    t.equal(step.flaky, true);
    t.same(step.counts, { [FAIL]: 2, [PASS]: 1 });
    t.equal(step.decided, 'bad');
    t.equal(res.observations, 3 * res.steps.length, 'every step observed K times');
    t.equal(tester.calls.filter((k) => k === 0).length, 3);
    t.ok(res.observations <= observationBudget(8, 3));
    const unanimous = res.steps.filter((s) => s.k !== 4);
    t.ok(unanimous.every((s) => !s.flaky && s.fraction === 1), 'the other steps agreed');
  });

  t.test('a tie is a skip, and the search steps around it', async (t) => {
    const tester = new FakeTester((k) => (k === 2 ? [val(PASS), val(FAIL)] : val(k >= 2 ? FAIL : PASS)));
    const res = await searchPrefixes({ patches: 4, tester, repeat: 2 });
    const step = res.steps.find((s) => s.k === 2)!;
    t.equal(step.decided, 'skip');
    t.equal(step.fraction, 1 / 2);
    t.equal(res.status, 'ambiguous');
    t.same(res.candidates, [2, 3], 'prefix 1 good, 3 bad, 2 undecidable');
    t.same(res.confidence, { weakestStep: 2, fraction: 1 / 2 });
  });

  t.test('two different failing values still agree that a step is bad', async (t) => {
    const tester = new FakeTester((k) => (k === 3 ? [val(FAIL), val('FAIL:setup_default=FAIL'), val(FAIL)] : val(k >= 3 ? FAIL : PASS)));
    const res = await searchPrefixes({ patches: 6, tester, repeat: 3 });
    const step = res.steps.find((s) => s.k === 3)!;
    t.equal(step.flaky, true, 'the values differ');
    t.equal(step.fraction, 1, 'but every observation says "changed"');
    t.equal(step.value, FAIL, 'the most frequent changed value represents it');
    t.equal(res.firstBad, 3);
    t.equal(res.confidence, 'certain');
  });

  t.test('a flaky base: the majority value defines good', async (t) => {
    const tester = new FakeTester((k) => (k === 0 ? [val(PASS), val(PASS), val(FAIL)] : [val(k >= 2 ? FAIL : PASS), val(k >= 2 ? FAIL : PASS), val(k >= 2 ? FAIL : PASS)]));
    const res = await searchPrefixes({ patches: 3, tester, repeat: 3 });
    t.equal(res.baseValue, PASS);
    t.equal(res.firstBad, 2);
    t.same(res.confidence, { weakestStep: 0, fraction: 2 / 3 });
  });

  t.test('decideStep on its own', async (t) => {
    const base = decideStep(0, [val('A'), val('B'), val('A'), skip()]);
    t.same([base.decided, base.value, base.fraction, base.skips, base.flaky], ['good', 'A', 0.5, 1, true]);
    t.equal(decideStep(0, [val('A'), val('B')]).decided, 'skip', 'a tied base is untestable');
    t.equal(decideStep(3, [skip(), skip(), val('A')], 'A').decided, 'skip', 'mostly unbuildable');
    t.equal(decideStep(3, [val('A')], 'A').decided, 'good');
    t.equal(decideStep(3, [val('B')], 'A').decided, 'bad');
  });
});

t.test('an infrastructure failure stops the search at once', async (t) => {
  t.test('mid-way', async (t) => {
    const tester = new FakeTester((k) => (k === 8 ? infra('no space left on device') : val(k >= 10 ? FAIL : PASS)));
    const res = await searchPrefixes({ patches: 16, tester });
    t.equal(res.status, 'infra');
    t.equal(res.infraAt, 8);
    t.equal(res.reason, 'no space left on device');
    t.same(tester.calls, [0, 16, 8], 'nothing observed after the failure');
    t.equal(res.firstBad, undefined);
    t.same(res.steps.map((s) => s.k), [0, 16], 'the failed step is not recorded as good, bad or skip');
  });

  t.test('inside a repeated step', async (t) => {
    const tester = new FakeTester((k) => (k === 4 ? [val(PASS), infra()] : val(k >= 4 ? FAIL : PASS)));
    const res = await searchPrefixes({ patches: 8, tester, repeat: 3 });
    t.equal(res.status, 'infra');
    t.same(tester.calls, [0, 0, 0, 8, 8, 8, 4, 4], 'the third repeat of prefix 4 never happens');
    t.equal(res.observations, 8);
  });

  t.test('at the base', async (t) => {
    const tester = new FakeTester(() => infra('qemu-system-x86_64: not found'));
    const res = await searchPrefixes({ patches: 5, tester });
    t.equal(res.status, 'infra');
    t.equal(res.infraAt, 0);
    t.same(tester.calls, [0]);
  });
});

t.test('bad options are usage errors', async (t) => {
  const tester = culpritAt(1);
  await t.rejects(searchPrefixes({ patches: 0, tester }), { exitCode: 2, message: /nothing to bisect/ });
  await t.rejects(searchPrefixes({ patches: 3, tester, repeat: 0 }), { exitCode: 2, message: /--repeat/ });
  await t.rejects(searchPrefixes({ patches: 2.5, tester }), KseriesError);
  t.same(tester.calls, [], 'nothing observed');
});

t.test('nextPrefix: the middle, then neighbours alternating above and below', async (t) => {
  t.equal(nextPrefix(0, 8, new Set()), 4);
  t.equal(nextPrefix(0, 8, new Set([4])), 5);
  t.equal(nextPrefix(0, 8, new Set([4, 5])), 3);
  t.equal(nextPrefix(0, 8, new Set([4, 5, 3])), 6);
  t.equal(nextPrefix(3, 6, new Set([4, 5])), undefined);
  t.equal(nextPrefix(0, 1, new Set()), undefined, 'adjacent bounds: nothing in between');
});

t.test('onStep reports each decided step in order', async (t) => {
  const seen: number[] = [];
  const res = await searchPrefixes({ patches: 8, tester: culpritAt(3), onStep: (s) => seen.push(s.k) });
  t.same(seen, res.steps.map((s) => s.k));
});

t.test('formatBisectResult', async (t) => {
  const describe = (k: number) => (k === 0 ? 'base' : `patch ${k} "io_uring: step ${k}"`);

  t.test('found: the decisive pair side by side, steps, counts, confidence', async (t) => {
    const tester = new FakeTester((k) => (k === 4 ? [val(FAIL), val(PASS), val(FAIL)] : val(k >= 4 ? FAIL : PASS)));
    const lines = formatBisectResult(await searchPrefixes({ patches: 8, tester, repeat: 3 }), describe);
    const text = lines.join('\n');
    t.equal(lines[0], 'first change: prefix 4/8, patch 4 "io_uring: step 4"');
    t.match(text, `  last good [3] patch 3 "io_uring: step 3": ${PASS}`);
    t.match(text, `  first bad [4] patch 4 "io_uring: step 4": ${FAIL}`);
    t.match(text, `  4  bad   ${FAIL}  [flaky: 2× ${FAIL} | 1× ${PASS}]`);
    t.match(text, /observations: \d+ \(3 per step\)/);
    t.match(text, /confidence: 67%, the weakest step is prefix 4/);
  });

  t.test('ambiguous lists the candidates', async (t) => {
    const lines = formatBisectResult(await searchPrefixes({ patches: 8, tester: culpritAt(5, [4, 5]) }), describe);
    t.match(lines[0], /^ambiguous: the first change is one of patches 4\.\.6/);
    t.same(lines.filter((l) => l.startsWith('  candidate')), ['  candidate [4] patch 4 "io_uring: step 4"', '  candidate [5] patch 5 "io_uring: step 5"', '  candidate [6] patch 6 "io_uring: step 6"']);
    t.ok(lines.some((l) => /^ {2}4 {2}skip {2}\(build of prefix 4 failed\)$/.test(l)), 'a skipped step shows why');
    t.ok(lines.includes(`  known bad [6] patch 6 "io_uring: step 6": ${FAIL}`), 'the bounds it could not split');
    t.ok(lines.includes('confidence: certain (every step observed the same each time)'));
  });

  t.test('no-change and infra', async (t) => {
    const same = formatBisectResult(await searchPrefixes({ patches: 3, tester: culpritAt(undefined) }), describe);
    t.equal(same[0], `no change: the base and the full series (3 patches) observe the same: ${PASS}`);
    const broke = formatBisectResult(await searchPrefixes({ patches: 3, tester: new FakeTester(() => infra('disk full')) }), describe);
    t.equal(broke[0], 'stopped: infrastructure failure at prefix 0 (base): disk full');
    t.ok(broke.includes('observations: 1 (1 per step)'));
  });
});
