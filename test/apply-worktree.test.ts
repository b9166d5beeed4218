import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { applySeries } from '../harness/apply/apply-series.ts';
import { prepareWorktree, removeWorktree, variantBranch } from '../harness/apply/worktree.ts';
import { commitFiles, diffOf, gitIn, makeRepo, replaceOnce, seriesPatch, sh, removeTempDirs, tempDir, writeFiles } from './fixtures/apply/helpers.ts';

t.teardown(removeTempDirs);

const FILES = {
  Makefile: 'VERSION = 6\nPATCHLEVEL = 1\n',
  'fs/read_write.c': 'int do_read(int fd)\n{\n\tint n = fd + 1;\n\n\treturn n;\n}\n',
};

t.test('branch names are valid refs under kseries/', async (t) => {
  t.equal(variantBranch('compat-iovec v2', 'fuzzy'), 'kseries/compat-iovec-v2/fuzzy');
  t.equal(variantBranch('../evil..name.lock', 'a b/c'), 'kseries/evil.name-lock/a-b-c');
  t.equal(variantBranch('', '...'), 'kseries/unnamed/unnamed');
});

t.test('a git tree gets a branch at the base, checked out in a new worktree; the checkout is untouched', async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const first = gitIn(repo)('rev-parse', 'HEAD');
  const second = commitFiles(repo, { 'fs/new.c': 'int x;\n' }, 'second');
  const dir = join(tempDir('wt'), 'variant');

  const wt = await prepareWorktree({ tree: repo, worktreeDir: dir, branch: 'kseries/s/plain' });
  t.same(wt, { branch: 'kseries/s/plain', worktreeDir: dir, baseCommit: second, repoDir: repo, imported: false });
  t.equal(gitIn(dir)('symbolic-ref', '--short', 'HEAD'), 'kseries/s/plain');
  t.ok(existsSync(join(dir, 'fs/new.c')));
  t.equal(gitIn(repo)('symbolic-ref', '--short', 'HEAD'), 'main');
  t.equal(gitIn(repo)('rev-parse', 'HEAD'), second);

  const older = await prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'v2'), branch: 'kseries/s/older', base: 'HEAD~1' });
  t.equal(older.baseCommit, first);
  t.notOk(existsSync(join(older.worktreeDir, 'fs/new.c')));
});

t.test('re-running resets an existing branch and worktree', async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const dir = join(tempDir('wt'), 'variant');
  const wt = await prepareWorktree({ tree: repo, worktreeDir: dir, branch: 'kseries/s/again' });
  const p = seriesPatch(1, 1, 'read more', { messageId: 'r@x', diff: diffOf(repo, { 'fs/read_write.c': replaceOnce('fd + 1', 'fd + 2') }) });
  await applySeries({ worktreeDir: dir, patches: [p], allowMisplaced: false });
  writeFileSync(join(dir, 'Makefile'), 'dirty\n');
  writeFileSync(join(dir, 'fs/leftover.rej'), 'junk\n');

  const again = await prepareWorktree({ tree: repo, worktreeDir: dir, branch: 'kseries/s/again' });
  t.equal(again.baseCommit, wt.baseCommit);
  const git = gitIn(dir);
  t.equal(git('rev-parse', 'HEAD'), wt.baseCommit, 'branch back at the base');
  t.equal(git('status', '--porcelain', '--untracked-files=all'), '', 'changes and leftovers gone');
  const res = await applySeries({ worktreeDir: dir, patches: [p], allowMisplaced: false });
  t.equal(res.reports[0]!.method, 'am', 'and the series applies again');

  await removeWorktree(repo, dir);
  t.notOk(existsSync(dir));
  t.equal(gitIn(repo)('rev-parse', 'kseries/s/again'), res.head, 'the branch outlives its worktree');
  const third = await prepareWorktree({ tree: repo, worktreeDir: dir, branch: 'kseries/s/again' });
  t.equal(gitIn(third.worktreeDir)('rev-parse', 'HEAD'), wt.baseCommit);
});

t.test('a plain tree becomes a repository with one import commit, then gets its branch', async (t) => {
  const tree = tempDir('plain');
  writeFiles(tree, { ...FILES, '.gitignore': '*.o\nscripts/gen\n', 'scripts/gen': 'tracked although ignored\n' });
  const dir = join(tempDir('wt'), 'variant');
  const logs: string[] = [];
  const wt = await prepareWorktree({ tree, worktreeDir: dir, branch: 'kseries/toy/plain', describe: 'toy 6.1', log: (m) => logs.push(m) });
  t.equal(wt.imported, true);
  t.match(logs.join('\n'), /not a git repository/);
  const git = gitIn(tree);
  t.equal(git('log', '--format=%s|%an', '--all', '--', 'Makefile'), 'kseries: import toy 6.1|kseries');
  t.equal(git('rev-list', '--count', 'HEAD'), '1');
  t.equal(wt.baseCommit, git('rev-parse', 'HEAD'));
  t.equal(readFileSync(join(dir, 'scripts/gen'), 'utf8'), 'tracked although ignored\n', 'ignored files are imported too');

  const p = seriesPatch(1, 1, 'read more', { messageId: 'p@x', diff: diffOf(makeRepo(FILES, 'poster'), { 'fs/read_write.c': replaceOnce('fd + 1', 'fd + 2') }) });
  const res = await applySeries({ worktreeDir: dir, patches: [p], allowMisplaced: false });
  t.equal(res.reports[0]!.method, 'am');
  t.equal(gitIn(dir)('rev-list', '--count', 'HEAD'), '2', 'import commit plus one per patch');

  const tree2 = tempDir('plain');
  writeFiles(tree2, { ...FILES, '.gitignore': '*.o\nscripts/gen\n', 'scripts/gen': 'tracked although ignored\n' });
  const wt2 = await prepareWorktree({ tree: tree2, worktreeDir: join(tempDir('wt'), 'v'), branch: 'kseries/toy/plain', describe: 'toy 6.1' });
  t.equal(wt2.baseCommit, wt.baseCommit, 'the same sources give the same import commit');
  const rerun = await prepareWorktree({ tree, worktreeDir: dir, branch: 'kseries/toy/plain' });
  t.equal(rerun.imported, false, 'imported once');
});

t.test('a bare repository works as the tree', async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const bare = join(tempDir('bare'), 'repo.git');
  sh(repo, 'git', 'clone', '-q', '--bare', repo, bare);
  const wt = await prepareWorktree({ tree: bare, worktreeDir: join(tempDir('wt'), 'v'), branch: 'kseries/b/x' });
  t.equal(wt.baseCommit, gitIn(repo)('rev-parse', 'HEAD'));
  t.ok(existsSync(join(wt.worktreeDir, 'fs/read_write.c')));
});

t.test('bad requests are usage errors (exit 2)', async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const dir = () => join(tempDir('wt'), 'v');
  await t.rejects(prepareWorktree({ tree: repo, worktreeDir: dir(), branch: 'kseries/x/y', base: 'no-such-rev' }), { exitCode: 2, message: /base revision 'no-such-rev' is not a commit/ });
  await t.rejects(prepareWorktree({ tree: repo, worktreeDir: dir(), branch: 'kseries/bad..name' }), { exitCode: 2, message: /not a valid branch name/ });
  const full = tempDir('full');
  writeFileSync(join(full, 'something'), 'x');
  await t.rejects(prepareWorktree({ tree: repo, worktreeDir: full, branch: 'kseries/x/y' }), { exitCode: 2, message: /already exists and is not a worktree/ });
  const one = dir();
  await prepareWorktree({ tree: repo, worktreeDir: one, branch: 'kseries/x/held' });
  await t.rejects(prepareWorktree({ tree: repo, worktreeDir: dir(), branch: 'kseries/x/held' }), { exitCode: 2, message: /checked out in another worktree/ });
  await t.rejects(prepareWorktree({ tree: join(repo, 'nope'), worktreeDir: dir(), branch: 'kseries/x/y' }), { exitCode: 2, message: /is not a directory/ });
});

t.test("kseries' own worktree left over from a tree made again at the same path is created anew; anyone else's is refused", async (t) => {
  const parent = tempDir('remade');
  const tree = join(parent, 'linux');
  writeFiles(tree, FILES);
  const dir = join(tempDir('wt'), 'cache-key');
  const first = await prepareWorktree({ tree, worktreeDir: dir, branch: 'kseries/r/x', owned: true });
  t.equal(first.imported, true);
  // The user deletes the tree and unpacks it again: a new repository, and the
  // old worktree's .git names a git directory that is gone.
  sh(parent, 'rm', '-rf', tree);
  writeFiles(tree, { ...FILES, 'fs/new.c': 'int y;\n' });
  await t.rejects(prepareWorktree({ tree, worktreeDir: dir, branch: 'kseries/r/x' }), { exitCode: 2, message: /already exists and is not a worktree/ }, 'a directory not marked as ours stays refused');
  const logs: string[] = [];
  const again = await prepareWorktree({ tree, worktreeDir: dir, branch: 'kseries/r/x', owned: true, log: (m) => logs.push(m) });
  t.match(logs.join('\n'), /removing the left-over worktree .*its repository is gone/);
  t.equal(gitIn(dir)('rev-parse', 'HEAD'), again.baseCommit);
  t.ok(existsSync(join(dir, 'fs/new.c')), 'the new tree is checked out');
  t.not(again.baseCommit, first.baseCommit);

  // A directory holding something else is not ours to remove, owned or not.
  const other = makeRepo(FILES, 'other');
  const foreign = join(tempDir('wt'), 'foreign');
  await prepareWorktree({ tree: other, worktreeDir: foreign, branch: 'kseries/o/x' });
  await t.rejects(prepareWorktree({ tree, worktreeDir: foreign, branch: 'kseries/r/y', owned: true }), { exitCode: 2, message: /already exists and is not a worktree/ }, 'a live worktree of another repository is kept');
  t.ok(existsSync(join(foreign, 'Makefile')));
});

t.test("two kseries caches on one tree: the second worktree gets its own branch; a deleted one is forgotten", async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const cacheA = join(tempDir('cacheA'), 'worktrees', 'k');
  const cacheB = join(tempDir('cacheB'), 'worktrees', 'k');
  const a = await prepareWorktree({ tree: repo, worktreeDir: cacheA, branch: 'kseries/s/latest', owned: true });
  t.equal(a.branch, 'kseries/s/latest');
  const logs: string[] = [];
  const b = await prepareWorktree({ tree: repo, worktreeDir: cacheB, branch: 'kseries/s/latest', owned: true, log: (m) => logs.push(m) });
  t.match(b.branch, /^kseries\/s\/latest@[0-9a-f]{8}$/, 'a branch of its own');
  t.match(logs.join('\n'), /branch kseries\/s\/latest is checked out in another worktree, .*cacheA.*; using kseries\/s\/latest@[0-9a-f]{8} here/);
  t.equal(gitIn(cacheB)('rev-parse', '--abbrev-ref', 'HEAD'), b.branch);
  t.equal(gitIn(cacheA)('rev-parse', '--abbrev-ref', 'HEAD'), 'kseries/s/latest', 'the first cache keeps its branch');
  const again = await prepareWorktree({ tree: repo, worktreeDir: cacheB, branch: 'kseries/s/latest', owned: true });
  t.equal(again.branch, b.branch, 'the same name every time');
  // The first cache is deleted: its registration is pruned and the branch is free again.
  sh(repo, 'rm', '-rf', dirname(dirname(cacheA)));
  const cacheC = join(tempDir('cacheC'), 'worktrees', 'k');
  const c = await prepareWorktree({ tree: repo, worktreeDir: cacheC, branch: 'kseries/s/latest', owned: true });
  t.equal(c.branch, 'kseries/s/latest');
  // Not kseries' own directory: still refused.
  await t.rejects(prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'v'), branch: 'kseries/s/latest' }), { exitCode: 2, message: /checked out in another worktree/ });
});

t.test('applySeries refuses a dirty worktree', async (t) => {
  const repo = makeRepo(FILES, 'tree');
  const wt = await prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'v'), branch: 'kseries/d/x' });
  writeFileSync(join(wt.worktreeDir, 'Makefile'), 'changed\n');
  await t.rejects(applySeries({ worktreeDir: wt.worktreeDir, patches: [], allowMisplaced: false }), { exitCode: 2, message: /uncommitted changes/ });
});
