import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bisectRange, parseBisectOutput, type RangeBisectResult } from '../harness/bisect/git-bisect.ts';
import { parseRevisionRange } from '../harness/util/revision-range.ts';
import { formatRangeResult } from '../harness/bisect/format.ts';
import { commandJudge, type Judge } from '../harness/bisect/judge.ts';
import { detachedWorktree, gitIn, numberedRepo, removeTempDirs, tempDir } from './fixtures/bisect/repo.ts';

t.teardown(removeTempDirs);

const fixture = (name: string) => readFileSync(new URL(`./fixtures/bisect/${name}`, import.meta.url), 'utf8');
const valueIn = (dir: string) => Number(readFileSync(join(dir, 'value'), 'utf8').trim());

/** A judge reading `value` in the worktree: below `threshold` is good. Checks it is shown the commit that is checked out. */
function thresholdJudge(t: Test, wt: string, threshold: number, judged: number[] = []): Judge {
  return async (commit) => {
    const v = valueIn(wt);
    t.equal(gitIn(wt)('log', '-1', '--format=%s', commit), String(v), `judge sees commit ${v} checked out`);
    judged.push(v);
    return v < threshold ? 'good' : 'bad';
  };
}

/** The worktree is back where it started and no bisect state is left, in it or in the main repository. */
function checkRestored(t: Test, repo: string, wt: string, startedAt: string): void {
  const git = gitIn(wt);
  t.equal(git('rev-parse', 'HEAD'), startedAt, 'worktree back at its starting commit');
  t.throws(() => git('symbolic-ref', '-q', 'HEAD'), 'and still detached');
  t.notOk(existsSync(git('rev-parse', '--path-format=absolute', '--git-path', 'BISECT_LOG')), 'no BISECT_LOG left');
  t.notOk(existsSync(git('rev-parse', '--path-format=absolute', '--git-path', 'BISECT_START')), 'no BISECT_START left');
  t.equal(git('for-each-ref', 'refs/bisect/'), '', 'no refs/bisect left');
  t.equal(gitIn(repo)('symbolic-ref', '--short', 'HEAD'), 'main', "the user's checkout never moved");
  t.equal(git('status', '--porcelain'), '', 'worktree clean');
}

const subjectsOf = (res: RangeBisectResult, shas: readonly string[]) => shas.map((s) => res.subjects[s]);

t.test('parsing git 2.39 bisect output', async (t) => {
  t.same(parseBisectOutput(fixture('start.txt')), { kind: 'next' });
  t.same(parseBisectOutput(fixture('next.txt')), { kind: 'next' });
  t.same(parseBisectOutput(fixture('found-quoting-message.txt')), { kind: 'found', sha: '51e2b39df2003346720e43f6fd8d10cac6538b5f' }, 'the hash quoted in the commit message is not taken');
  t.same(parseBisectOutput(fixture('only-skipped.txt')), {
    kind: 'only-skipped',
    candidates: ['c4d904e3f6737508ac9597a2dde051abd03e09d2', '1c849c3f3e4290655614fe11b1daff25742a1c87', '2998de6bd737c5838a889e725990417d9c4d5cab', '51e2b39df2003346720e43f6fd8d10cac6538b5f'],
  });
  t.same(parseBisectOutput(''), { kind: 'next' });
});

t.test('a judge reading the file finds where the content crosses the threshold', async (t) => {
  const { dir: repo, shas } = numberedRepo(20);
  const wt = detachedWorktree(repo, shas[20]!);
  const judged: number[] = [];
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[20]!, judge: thresholdJudge(t, wt, 7, judged) });
  t.equal(res.status, 'found');
  t.same(res.firstBad, { sha: shas[7], subject: '7' });
  t.same(res.steps.slice(0, 2).map((s) => [s.subject, s.verdict, s.end]), [['0', 'good', 'good'], ['20', 'bad', 'bad']], 'the ends are checked first');
  t.same(judged.slice(0, 2), [0, 20]);
  const middle = res.steps.slice(2);
  t.ok(middle.length >= 1 && middle.length <= 5, `${middle.length} bisect steps over 19 commits (≤ ⌈log2 20⌉)`);
  t.ok(middle.every((s) => s.end === undefined && s.verdict === (Number(s.subject) < 7 ? 'good' : 'bad')), 'every step recorded with its verdict');
  t.ok(judged.includes(6) && judged.includes(7), 'both sides of the change were tested');
  t.equal(res.createdWorktree, false);
  checkRestored(t, repo, wt, shas[20]!);
  t.match(formatRangeResult(res)[0], new RegExp(`^first bad commit: ${shas[7]!.slice(0, 12)} 7$`));
});

t.test('commandJudge with a shell command, range given as GOOD..BAD', async (t) => {
  const { dir: repo, shas } = numberedRepo(20);
  const wt = detachedWorktree(repo, shas[13]!);
  const { from: good, to: bad } = parseRevisionRange('main~20..main', ['GOOD', 'BAD']);
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good, bad, judge: commandJudge('test $(cat value) -lt 7', wt) });
  t.equal(res.status, 'found');
  t.equal(res.firstBad?.sha, shas[7]);
  t.equal(res.firstBad?.subject, '7');
  checkRestored(t, repo, wt, shas[13]!);
});

t.test('a range of one commit: git names it at start, only the ends are judged', async (t) => {
  const { dir: repo, shas } = numberedRepo(10);
  const wt = detachedWorktree(repo, shas[0]!);
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[6]!, bad: shas[7]!, judge: thresholdJudge(t, wt, 7) });
  t.equal(res.status, 'found');
  t.equal(res.firstBad?.sha, shas[7]);
  t.equal(res.steps.length, 2);
  checkRestored(t, repo, wt, shas[0]!);
});

t.test('commits that cannot be tested (exit 125) leave a candidate list', async (t) => {
  const { dir: repo, shas } = numberedRepo(20);
  const wt = detachedWorktree(repo, shas[20]!);
  const cmd = 'v=$(cat value); [ $v -ge 5 ] && [ $v -le 9 ] && exit 125; test $v -lt 7';
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[20]!, judge: commandJudge(cmd, wt) });
  t.equal(res.status, 'ambiguous');
  t.equal(res.firstBad, undefined);
  const numbers = subjectsOf(res, res.candidates ?? []).map(Number);
  t.ok(numbers.length >= 6, `candidates: ${numbers.join(' ')}`);
  t.same(numbers, Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i), 'oldest first, consecutive');
  for (const n of [5, 6, 7, 8, 9]) t.ok(numbers.includes(n), `${n} (skipped) is a candidate`);
  const verdictOf = (n: number) => res.steps.find((s) => s.subject === String(n))?.verdict;
  t.equal(verdictOf(numbers[0]! - 1), 'good', 'just below the candidates: tested good');
  t.equal(verdictOf(numbers.at(-1)!), 'bad', 'the last candidate is the known bad bound');
  t.ok(numbers.slice(0, -1).every((n) => verdictOf(n) === 'skip'), 'the others were all skipped');
  checkRestored(t, repo, wt, shas[20]!);
  const lines = formatRangeResult(res);
  t.match(lines[0], /only skipped commits are left/);
  t.equal(lines.filter((l) => /^ {2}[0-9a-f]{12} \d+$/.test(l)).length, numbers.length, 'every candidate listed with its subject');
});

t.test('ends not as stated are a usage error, and the worktree is restored', async (t) => {
  const { dir: repo, shas } = numberedRepo(20);
  const wt = detachedWorktree(repo, shas[3]!);
  const judged: number[] = [];
  await t.rejects(
    bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[10]!, bad: shas[20]!, judge: thresholdJudge(t, wt, 7, judged) }),
    { exitCode: 2, message: new RegExp(`the good end ${shas[10]} \\(${shas[10]!.slice(0, 12)}\\) tested bad`) },
  );
  t.same(judged, [10], 'fails fast: the bad end is not built when the good end is already wrong');
  checkRestored(t, repo, wt, shas[3]!);

  await t.rejects(
    bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[5]!, judge: thresholdJudge(t, wt, 7) }),
    { exitCode: 2, message: /the bad end .* tested good/ },
  );
  await t.rejects(
    bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[20]!, judge: async () => 'skip' }),
    { exitCode: 2, message: /the good end .* could not be tested \(skip\)/ },
  );
  checkRestored(t, repo, wt, shas[3]!);
});

t.test('ranges git cannot bisect as stated are usage errors before anything is judged', async (t) => {
  const { dir: repo, shas } = numberedRepo(5);
  const wt = detachedWorktree(repo, shas[2]!);
  let calls = 0;
  const judge: Judge = async () => {
    calls++;
    return 'good';
  };
  const go = (good: string, bad: string) => bisectRange({ repoDir: repo, worktreeDir: wt, good, bad, judge });
  await t.rejects(go(shas[5]!, shas[0]!), { exitCode: 2, message: /not an ancestor/ }, 'swapped ends');
  await t.rejects(go('nonesuch', shas[5]!), { exitCode: 2, message: /good revision 'nonesuch' is not a commit/ });
  await t.rejects(go('main', shas[5]!), { exitCode: 2, message: /same commit/ });
  t.equal(calls, 0, 'nothing judged');
  t.equal(gitIn(wt)('rev-parse', 'HEAD'), shas[2]);
});

t.test('an infra verdict (exit 200) stops the bisect and resets it', async (t) => {
  const { dir: repo, shas } = numberedRepo(20);
  const wt = detachedWorktree(repo, shas[11]!);
  const seen = join(tempDir('seen'), 'seen');
  // Writes each tested value, then fails like a missing qemu on the first commit inside the range.
  const cmd = `v=$(cat value); echo $v >> ${seen}; [ $v -ne 0 ] && [ $v -ne 20 ] && { echo "qemu-system-x86_64: not found" >&2; exit 200; }; test $v -lt 7`;
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[20]!, judge: commandJudge(cmd, wt) });
  t.equal(res.status, 'infra');
  t.match(res.reason, /exited with 200: qemu-system-x86_64: not found/);
  t.same(res.steps.map((s) => s.verdict), ['good', 'bad', 'infra']);
  t.match(res.steps[2], { reason: /exited with 200/ });
  t.equal(readFileSync(seen, 'utf8').trim().split('\n').length, 3, 'nothing judged after the failure');
  checkRestored(t, repo, wt, shas[11]!);
  t.match(formatRangeResult(res)[0], /^stopped: infrastructure failure: .*exited with 200/);
});

t.test('an infra verdict at an end returns infra without starting git bisect', async (t) => {
  const { dir: repo, shas } = numberedRepo(4);
  const wt = detachedWorktree(repo, shas[1]!);
  const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[4]!, judge: async () => ({ infra: 'disk full' }) });
  t.equal(res.status, 'infra');
  t.match(res.reason, /disk full \(testing the good end/);
  checkRestored(t, repo, wt, shas[1]!);
});

t.test('a judge that throws still leaves no bisect behind', async (t) => {
  const { dir: repo, shas } = numberedRepo(16);
  const wt = detachedWorktree(repo, shas[16]!);
  let calls = 0;
  const judge: Judge = async () => {
    if (++calls === 4) throw new Error('probe parser exploded');
    return valueIn(wt) < 9 ? 'good' : 'bad';
  };
  await t.rejects(bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[16]!, judge }), { message: 'probe parser exploded' });
  checkRestored(t, repo, wt, shas[16]!);
});

t.test('worktrees', async (t) => {
  t.test('a missing worktree directory is created detached at BAD and left in place', async (t) => {
    const { dir: repo, shas } = numberedRepo(8);
    const wt = join(tempDir('new'), 'bisect-wt');
    const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[8]!, judge: commandJudge('test $(cat value) -lt 3', wt) });
    t.equal(res.status, 'found');
    t.equal(res.firstBad?.subject, '3');
    t.equal(res.createdWorktree, true);
    t.equal(res.worktreeDir, wt);
    t.match(gitIn(repo)('worktree', 'list'), wt, 'registered as a linked worktree');
    checkRestored(t, repo, wt, shas[8]!);
  });

  t.test('a worktree on a branch goes back to that branch, bisected or not', async (t) => {
    const { dir: repo, shas } = numberedRepo(8);
    const wt = join(tempDir('br'), 'wt');
    const branch = 'kseries/io_uring-compat-iovec-v2/full-series-variant';
    t.ok(branch.length > 40, 'longer than a hash');
    gitIn(repo)('worktree', 'add', '-q', '-b', branch, wt, shas[8]!);
    const judge = commandJudge('test $(cat value) -lt 5', wt);
    const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[8]!, judge });
    t.equal(res.firstBad?.subject, '5');
    t.equal(gitIn(wt)('symbolic-ref', '--short', 'HEAD'), branch, 'after git bisect reset');
    t.equal(gitIn(wt)('rev-parse', 'HEAD'), shas[8]);

    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[6]!, bad: shas[8]!, judge }), { exitCode: 2, message: /good end .* tested bad/ });
    t.equal(gitIn(wt)('symbolic-ref', '--short', 'HEAD'), branch, 'after an end check failed before git bisect started');
    t.equal(gitIn(wt)('rev-parse', 'HEAD'), shas[8]);
  });

  t.test("the repository's own checkout is refused", async (t) => {
    const { dir: repo, shas } = numberedRepo(4);
    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: repo, good: shas[0]!, bad: shas[4]!, judge: async () => 'good' }), { exitCode: 2, message: /own checkout/ });
    t.equal(gitIn(repo)('rev-parse', 'HEAD'), shas[4]);
  });

  t.test('a directory that is not a worktree, or a worktree of another repository, is refused', async (t) => {
    const { dir: repo, shas } = numberedRepo(4);
    const plain = tempDir('plain');
    writeFileSync(join(plain, 'junk'), 'x');
    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: plain, good: shas[0]!, bad: shas[4]!, judge: async () => 'good' }), { exitCode: 2, message: /not a git worktree/ });
    const other = numberedRepo(4);
    const foreign = detachedWorktree(other.dir, other.shas[4]!);
    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: foreign, good: shas[0]!, bad: shas[4]!, judge: async () => 'good' }), { exitCode: 2, message: /another repository/ });
  });

  t.test('a dirty worktree or one already bisecting is refused', async (t) => {
    const { dir: repo, shas } = numberedRepo(4);
    const wt = detachedWorktree(repo, shas[4]!);
    writeFileSync(join(wt, 'value'), 'edited\n');
    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[4]!, judge: async () => 'good' }), { exitCode: 2, message: /uncommitted changes/ });
    gitIn(wt)('checkout', '-q', '--', 'value');
    mkdirSync(join(wt, 'build'), { recursive: true });
    writeFileSync(join(wt, 'build', 'vmlinux'), 'untracked build output is fine\n');
    gitIn(wt)('bisect', 'start', shas[4]!, shas[0]!);
    await t.rejects(bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[4]!, judge: async () => 'good' }), { exitCode: 2, message: /already in progress/ });
    gitIn(wt)('bisect', 'reset');
    const res = await bisectRange({ repoDir: repo, worktreeDir: wt, good: shas[0]!, bad: shas[4]!, judge: commandJudge('test $(cat value) -lt 2', wt) });
    t.equal(res.firstBad?.subject, '2', 'with untracked files around, it bisects');
  });
});
