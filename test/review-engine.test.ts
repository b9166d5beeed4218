// The review engine with a fake observer: what --max-builds leaves out, what a
// failing build does to a bisect, and that the plan comes before any observation.
import t from 'tap';
import { parseMessage } from '../harness/mail/mbox.ts';
import { collectReview } from '../harness/review/collect.ts';
import { runReview } from '../harness/review/engine.ts';
import { BuildBudget } from '../harness/review/observers.ts';
import type { GroupObservation, ReviewObserver, ReviewPlanSummary, ReviewVariant } from '../harness/review/review-types.ts';
import { render, type Mail } from './fixtures/series/make-fixtures.ts';

const AUTHOR = 'A <a@example.org>';
const cover: Mail = { id: 'c@x', from: AUTHOR, date: 'Mon, 1 Jan 2024 10:00:00 +0000', subject: '[PATCH 0/4] t: four', body: 'four\n' };
const titles = ['t: one', 't: two', 't: plant', 't: four'];
const patches: Mail[] = titles.map((title, i) => ({
  id: `p${i + 1}@x`, from: AUTHOR, date: `Mon, 1 Jan 2024 10:00:0${i + 1} +0000`, subject: `[PATCH ${i + 1}/4] ${title}`, inReplyTo: cover.id, references: [cover.id],
  body: `${title}\n---\ndiff --git a/f${i} b/f${i}\n--- a/f${i}\n+++ b/f${i}\n@@ -1 +1 @@\n-a\n+b\n`,
}));
const material = () => collectReview([cover, ...patches].map((m) => parseMessage(Buffer.from(render(m)))!), cover.id);

/** One cell; 'bad' once "t: plant" is applied. Each observation of a variant not yet seen is a "build". */
function fakeObserver(budget: BuildBudget, opts: { failing?: number[] } = {}): ReviewObserver & { seen: string[] } {
  const built = new Set<string>();
  const seen: string[] = [];
  return {
    seen,
    groups: ['k'],
    cells: [{ cell: 'x:abi', group: 'k' }],
    needsBuild: async (v) => !built.has(v.name),
    async observe(v: ReviewVariant): Promise<GroupObservation> {
      seen.push(v.name);
      if (!built.has(v.name)) {
        if (!budget.take()) return { kind: 'left-out', reason: `left out: --max-builds ${budget.max} reached before ${v.name}` };
        built.add(v.name);
      }
      if (opts.failing?.includes(v.patches.length)) return { kind: 'skip', reason: 'build failed' };
      const value = v.patches.some((p) => p.title === 't: plant') ? 'FAIL c=FAIL' : 'PASS c=PASS';
      return { kind: 'observed', cells: new Map([['x:abi', { kind: 'value', value }]]), cached: false };
    },
  };
}

const run = (observer: ReviewObserver, budget: BuildBudget, onPlan?: (p: ReviewPlanSummary) => void) =>
  runReview({ material: material(), observer, tryApply: async () => undefined, ports: new Map(), budget, estimate: { coldBuildMs: 240_000, seededBuildMs: 60_000, bootMs: 5_000, checkoutMs: 1_000 }, tree: 't', tester: 'fake', ...(onPlan ? { onPlan } : {}) });

t.test('unlimited: the change is bisected to 3/4, with the plan first', async (t) => {
  const budget = new BuildBudget();
  const obs = fakeObserver(budget);
  let planned: ReviewPlanSummary | undefined;
  const r = await run(obs, budget, (p) => {
    planned = p;
    t.same(obs.seen, [], 'nothing observed before the plan');
  });
  t.match(planned, { variants: ['base', 'v1'], builds: 2, estimateMs: 240_000 + 60_000 + 2 * 5_000 });
  t.match(r.revisions[0]!.changes, [{ status: 'found', patch: { index: 3, title: 't: plant' }, cells: [{ cell: 'x:abi', from: 'PASS c=PASS', to: 'FAIL c=FAIL' }] }]);
  t.same(r.leftOut, []);
  t.equal(r.usage.newBuilds, 4, 'base, full, prefix 2, prefix 3');
});

t.test('--max-builds 3: the bisect stops short, and the report says what was left out', async (t) => {
  const budget = new BuildBudget(3);
  const r = await run(fakeObserver(budget), budget);
  const [change] = r.revisions[0]!.changes;
  t.not(change!.status, 'found', 'no patch is named without the steps to show it');
  t.match(r.leftOut.join('\n'), /left out: --max-builds 3 reached before v1\/prefix-3/);
  t.equal(r.usage.newBuilds, 3);
});

t.test('--max-builds 1: the revision itself is left out, so nothing is claimed about it', async (t) => {
  const budget = new BuildBudget(1);
  const r = await run(fakeObserver(budget), budget);
  t.same(r.revisions[0]!.changes, [], 'no change claimed');
  t.match(r.table.find((x) => x.variant === 'v1')!.values['x:abi'], { missing: /left out/ });
  t.match(r.leftOut, [/left out: --max-builds 1 reached before v1/]);
});

t.test('a prefix that does not build is a skip: the change is narrowed to the candidates around it', async (t) => {
  const budget = new BuildBudget();
  const r = await run(fakeObserver(budget, { failing: [2, 3] }), budget);
  const [change] = r.revisions[0]!.changes;
  t.match(change, { status: 'ambiguous' });
  t.same(change!.candidates!.map((p) => p.index), [2, 3, 4], 'prefix 1 is good, 2 and 3 could not be tested, 4 is bad');
  t.match(r.leftOut.join('\n'), /v1\/prefix-\d \(k\) could not be observed: build failed/);
});

t.test('a build failure is said in one line: the first compiler error, relative to the tree', async (t) => {
  const { buildFailure } = await import('../harness/util/errors.ts');
  const { buildFailureReason } = await import('../harness/review/observers.ts');
  const e = buildFailure('kernel build failed (make exit 2); see /tmp/x/build.log', [
    'make[3]: *** [scripts/Makefile.build:250: lib/iov_iter.o] Error 1',
    "../../../worktrees/adb25f1f9403f669/lib/iov_iter.c:1668:43: error: invalid use of undefined type 'struct compat_iovec'",
  ].join('\n'));
  t.equal(buildFailureReason(e), "the kernel does not build: lib/iov_iter.c:1668:43: error: invalid use of undefined type 'struct compat_iovec'");
});
