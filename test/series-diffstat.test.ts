import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diffStatOf, netDiffStat } from '../harness/apply/diffstat.ts';
import { parseUnifiedDiff } from '../harness/apply/unified-diff.ts';
import { messageBody, readMbox } from '../harness/mail/mbox.ts';
import { TOY_TREE } from './fixtures/series/make-fixtures.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'series');

const PATCH = `Subject: [PATCH] toy: things

A commit message that quotes a diffstat-looking line:
--- not a diff
and a signature-looking one
-- 
still the message.

Signed-off-by: A <a@example.org>
---
 a.c            | 3 ++-
 b.c => sub/b.c | 0
 2 files changed, 2 insertions(+), 1 deletion(-)

diff --git a/a.c b/a.c
index 1..2 100644
--- a/a.c
+++ b/a.c
@@ -1,4 +1,5 @@
 int a;
--- b;
+++ c;
+int d;

 int e;
@@ -10 +11 @@ int f(void)
-	return 1;
+	return 2;
\\ No newline at end of file
diff --git a/b.c b/sub/b.c
similarity index 100%
rename from b.c
rename to sub/b.c
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..1111111
Binary files /dev/null and b/logo.png differ
diff --git "a/with space.txt" "b/with space.txt"
deleted file mode 100644
--- "a/with space.txt"
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
-- 
2.40.0
`;

t.test('one patch: hunks counted by their line counts', async (t) => {
  const d = diffStatOf(PATCH);
  t.same(d.files, [
    { path: 'a.c', insertions: 3, deletions: 2 },
    { path: 'sub/b.c', insertions: 0, deletions: 0 },
    { path: 'logo.png', insertions: 0, deletions: 0 },
    { path: 'with space.txt', insertions: 0, deletions: 2 },
  ]);
  t.equal(d.insertions, 3);
  t.equal(d.deletions, 4);
  const files = parseUnifiedDiff(PATCH);
  t.same(files.map((f) => [f.oldPath, f.newPath]), [
    ['a.c', 'a.c'],
    ['b.c', 'sub/b.c'],
    [null, 'logo.png'],
    ['with space.txt', null],
  ]);
});

t.test('plain (non-git) diffs and timestamps', async (t) => {
  const d = diffStatOf('Index: x\n--- x.orig\t2024-01-01 00:00:00\n+++ x\t2024-01-01 00:00:00\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n');
  t.same(d.files, [{ path: 'x', insertions: 1, deletions: 1 }]);
  t.same(diffStatOf('no diff here\n---\n x | 1 +\n'), { files: [], insertions: 0, deletions: 0 });
});

t.test('a line added and reworked within the series counts once', async (t) => {
  const p1 = `--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+new\n b\n c\n`;
  const p2 = `--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n a\n-new\n+newer\n b\n c\n`;
  t.same(netDiffStat([p1, p2]).files, [{ path: 'f', insertions: 1, deletions: 0 }]);
  // Removed by one patch, restored in place by a later one: no change at all.
  const r1 = `--- a/f\n+++ b/f\n@@ -2 +1,0 @@\n-b\n`;
  const r2 = `--- a/f\n+++ b/f\n@@ -1,0 +2 @@\n+b\n`;
  t.same(netDiffStat([r1, r2]).files, []);
  // A move within one patch stays a change.
  const mv = `--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-a\n b\n c\n+a\n`;
  t.same(netDiffStat([mv]).files, [{ path: 'f', insertions: 1, deletions: 1 }]);
  // Created, then renamed: one new file under the new name.
  const c1 = `diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+1\n+2\n`;
  const c2 = `diff --git a/n b/m\nsimilarity index 50%\nrename from n\nrename to m\n--- a/n\n+++ b/m\n@@ -1,2 +1,2 @@\n 1\n-2\n+3\n`;
  t.same(netDiffStat([c1, c2]).files, [{ path: 'm', insertions: 2, deletions: 0 }]);
});

t.test('toy series: per-patch and net diffstat match git', async (t) => {
  const msgs = await readMbox(join(FIX, 'toy-series.mbox'));
  const patches = msgs.filter((m) => /^\[PATCH v2 [1-3]\/3\]/.test(m.subject)).map((m) => messageBody(m.raw));
  t.same(patches.map((b) => [diffStatOf(b).insertions, diffStatOf(b).deletions]), [[3, 1], [4, 1], [3, 3]]);
  const net = netDiffStat(patches);

  // What git says about the same series applied to the toy tree.
  const dir = await mkdtemp(join(tmpdir(), 'kseries-diffstat-'));
  const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
  const git = (...args: string[]) => execa('git', args, { cwd: dir, env });
  await git('init', '-q');
  for (const [p, text] of Object.entries(TOY_TREE)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  for (const [i, b] of patches.entries()) {
    await writeFile(join(dir, `p${i}`), b);
    await git('apply', '--index', `p${i}`);
  }
  const numstat = (await git('diff', '--cached', '-M30%', '--numstat', 'HEAD')).stdout.trim().split('\n');
  const fromGit = numstat.map((l) => {
    const [a, d, p] = l.split('\t');
    return { path: p!.replace(/^.*=> /, '').replace(/[{}]/g, ''), insertions: Number(a), deletions: Number(d) };
  });
  const byPath = (x: { path: string }, y: { path: string }) => x.path.localeCompare(y.path);
  t.same([...net.files].sort(byPath), fromGit.sort(byPath));
  t.equal(net.files.length, 4);
  t.same([net.insertions, net.deletions], [9, 4]);
});
