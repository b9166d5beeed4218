import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { appendLine, appendPatchMail, benchLine } from '../harness/bench/edits.ts';
import { formatBenchTable, median, ratio } from '../harness/bench/stats.ts';
import { statedDiffStat } from '../harness/apply/stat-check.ts';

t.test('median of odd and even sample counts', async (t) => {
  t.equal(median([5, 1, 3]), 3);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
});

t.test('a ratio is of the medians of the samples and of the floor, empty without a floor', async (t) => {
  t.equal(ratio({ name: 'cold', samplesMs: [300_000, 320_000, 310_000], floorMs: [290_000, 280_000, 300_000] }), '1.07x');
  t.equal(ratio({ name: 'boot', samplesMs: [2000] }), '');
  t.equal(ratio({ name: 'variant', samplesMs: [], floorMs: [6000] }), '');
});

t.test('the table has one row per figure, with floor, ratio, target and note columns', async (t) => {
  const lines = formatBenchTable(
    [
      { name: 'one-file variant / touch floor', samplesMs: [7000, 6000, 8000], floorMs: [6000, 6000, 6000], target: '<= 1.5x' },
      { name: 'boot to results', samplesMs: [2100] },
      { name: 'test-kernel, warm', samplesMs: [], note: 'skipped' },
    ],
    (ms) => `${ms}ms`,
  );
  t.match(lines[0], /^figure\s+runs\s+kseries\s+floor\s+ratio\s+target$/);
  t.match(lines[1], /^one-file variant \/ touch floor\s+3\s+7000ms\s+6000ms\s+1\.17x\s+<= 1\.5x$/);
  t.match(lines[2], /^boot to results\s+1\s+2100ms$/);
  t.match(lines[3], /^test-kernel, warm\s+-\s+not measured\s+skipped$/);
});

t.test('the bench edit is code (not a comment ccache would hide) and its patch applies with the stated diffstat', async (t) => {
  t.match(benchLine('v1_42'), /^static const int kseries_bench_v1_42 __maybe_unused = 1;$/);
  t.throws(() => benchLine('a b'));
  const repo = mkdtempSync(join(tmpdir(), 'kseries-bench-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
  git('init', '-q');
  const content = Array.from({ length: 20 }, (_, i) => `int line${i};`).join('\n') + '\n';
  execFileSync('mkdir', ['-p', join(repo, 'fs')]);
  writeFileSync(join(repo, 'fs/x.c'), content);
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base');
  const line = benchLine('t1');
  const mail = appendPatchMail('fs/x.c', content, line, 'bench: t');
  t.same(statedDiffStat(mail), { files: 1, insertions: 1, deletions: 0, perFile: [{ path: 'fs/x.c', changes: 1 }] });
  writeFileSync(join(repo, 'p.patch'), mail);
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'am', '-q', 'p.patch');
  t.equal(readFileSync(join(repo, 'fs/x.c'), 'utf8'), appendLine(content, line), 'git am gives what the floor writes in place');
  t.throws(() => appendLine('no newline', line));
});
