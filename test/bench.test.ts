import t from 'tap';
import { formatBenchTable, median, ratio } from '../harness/bench/stats.ts';

t.test('median of odd and even sample counts', async (t) => {
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
});

t.test('ratios are of medians, n/a without samples', async (t) => {
  const cold = { name: 'cold', samplesMs: [200_000, 210_000, 190_000] };
  const warm = { name: 'warm', samplesMs: [35_000, 40_000, 30_000] };
  t.equal(ratio(cold, warm), '5.7x');
  t.equal(ratio(cold, { name: 'kvm', samplesMs: [], unavailable: 'no KVM' }), 'n/a');
});

t.test('the table shows unavailable measurements with their reason', async (t) => {
  const lines = formatBenchTable(
    [{ name: 'boot TCG', samplesMs: [1600, 1700] }, { name: 'boot KVM', samplesMs: [], unavailable: 'unavailable: no vmx/svm' }],
    (ms) => `${ms}ms`,
  );
  t.match(lines[0], /^measurement\s+runs\s+median\s+min\s+max$/);
  t.match(lines[1], /^boot TCG\s+2\s+1650ms\s+1600ms\s+1700ms$/);
  t.match(lines[2], /^boot KVM\s+-\s+unavailable: no vmx\/svm$/);
});
