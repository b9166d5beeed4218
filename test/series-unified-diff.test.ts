// One unified-diff parser for the diffstat, the summary and the appliers:
// paths follow -p1 like git apply and GNU patch, whatever the first component.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { diffStatOf, netDiffStat } from '../harness/apply/diffstat.ts';
import { diffPath, headerPath, parseUnifiedDiff, unquote } from '../harness/apply/unified-diff.ts';

// A diff made with `diff -up linux-5.9.orig/fs/x.c linux-5.9/fs/x.c`, as older posters send.
const PLAIN = `Fix it.
---
diff -up linux-5.9.orig/fs/x.c linux-5.9/fs/x.c
--- linux-5.9.orig/fs/x.c\t2020-10-01 10:00:00.000000000 +0200
+++ linux-5.9/fs/x.c\t2020-10-02 10:00:00.000000000 +0200
@@ -1,3 +1,3 @@ int x(void)
 a
-b
+c
 d
`;

const GIT = `diff --git a/dir with space/f.c b/dir with space/f.c
--- a/dir with space/f.c
+++ b/dir with space/f.c
@@ -1 +1 @@
-x
+y
diff --git "a/t\\303\\244st.c" "b/t\\303\\244st.c"
new file mode 100644
--- /dev/null
+++ "b/t\\303\\244st.c"
@@ -0,0 +1 @@
+z
diff --git a/mode.sh b/mode.sh
old mode 100644
new mode 100755
`;

/** git apply's own -p1 reading of the same diff. */
const gitNumstatPaths = (diff: string) =>
  execFileSync('git', ['-c', 'core.quotePath=false', 'apply', '--numstat', '-z'], { cwd: tmpdir(), input: diff })
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((l) => l.split('\t')[2]!);

t.test('linux-5.9.orig/fs/x.c: the diffstat, the summary and the applier all say fs/x.c, as git does', async (t) => {
  t.same(parseUnifiedDiff(PLAIN).map((f) => [f.oldPath, f.newPath]), [['fs/x.c', 'fs/x.c']], 'the applier');
  t.same(diffStatOf(PLAIN).files, [{ path: 'fs/x.c', insertions: 1, deletions: 1 }], 'the per-patch diffstat');
  t.same(netDiffStat([PLAIN]).files.map((f) => f.path), ['fs/x.c'], 'the series summary');
  t.same(gitNumstatPaths(PLAIN), ['fs/x.c'], 'git apply -p1');
});

t.test('git names: spaces, C quoting, mode-only sections', async (t) => {
  const files = parseUnifiedDiff(GIT);
  t.same(files.map((f) => [f.oldPath, f.newPath, f.hunks.length]), [
    ['dir with space/f.c', 'dir with space/f.c', 1],
    [null, 'täst.c', 1],
    ['mode.sh', 'mode.sh', 0],
  ]);
  t.same(files.map(diffPath), gitNumstatPaths(GIT), 'the same paths git apply reports');
  t.same(diffStatOf(GIT).files.map((f) => f.path), files.map(diffPath), 'the diffstat names them alike');
});

t.test('header paths and unquoting', async (t) => {
  t.equal(headerPath('a/fs/io_uring.c'), 'fs/io_uring.c');
  t.equal(headerPath('linux-5.9.orig/fs/x.c\t2020-10-01'), 'fs/x.c');
  t.equal(headerPath('/dev/null'), null);
  t.equal(headerPath('x.orig'), 'x.orig', 'a bare name stays');
  t.equal(headerPath('"b/t\\303\\244st.c"'), 'täst.c');
  t.equal(unquote('"a\\tb\\"c"'), 'a\tb"c');
  t.equal(unquote('plain'), 'plain');
});
