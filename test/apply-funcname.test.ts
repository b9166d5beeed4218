import t from 'tap';
import { findFuncnameAbove, functionKey, isFuncnameLine, judgeLanding, sameFunction } from '../harness/apply/funcname.ts';
import { parseGnuPatchOutput, placeHunks } from '../harness/apply/hunks.ts';
import { parseUnifiedDiff, touchedPaths } from '../harness/apply/unified-diff.ts';

const C = `#include <linux/fs.h>

struct widget {
\tint size;
};

static int widget_count;

static int widget_grow(struct widget *w,
\t\t       int by)
{
\tif (by < 0)
\t\tgoto out;
\tw->size += by;
out:
\treturn w->size;
}

int widget_shrink(struct widget *w);

SYSCALL_DEFINE2(widget_poke, int, fd, int, how)
{
\treturn 0;
}
EXPORT_SYMBOL(widget_grow);
`;
const lines = C.split('\n');
const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;

t.test('which lines count as definitions, per rule', async (t) => {
  const cases: [string, boolean, boolean, boolean][] = [
    // line, function, cpp, default
    ['static int widget_grow(struct widget *w,', true, true, true],
    ['SYSCALL_DEFINE2(widget_poke, int, fd, int, how)', true, true, true],
    ['struct widget {', false, true, true],
    ['out:', false, false, true],
    ['int widget_shrink(struct widget *w);', false, true, true],
    ['EXPORT_SYMBOL(widget_grow);', false, true, true],
    ['\tw->size += by;', false, false, false],
    ['{', false, false, false],
    ['#include <linux/fs.h>', false, false, false],
    ['$weird(', true, false, true],
  ];
  for (const [line, fn, cpp, def] of cases) {
    t.equal(isFuncnameLine(line, 'function'), fn, `function: ${line}`);
    t.equal(isFuncnameLine(line, 'cpp'), cpp, `cpp: ${line}`);
    t.equal(isFuncnameLine(line, 'default'), def, `default: ${line}`);
  }
});

t.test('scanning upwards from a line finds its enclosing definition', async (t) => {
  const ret = lineOf('return w->size;');
  t.equal(findFuncnameAbove(lines, ret, 'function'), 'static int widget_grow(struct widget *w,');
  t.equal(findFuncnameAbove(lines, ret, 'cpp'), 'static int widget_grow(struct widget *w,', 'cpp skips the label');
  t.equal(findFuncnameAbove(lines, ret, 'default'), 'out:', "git's default rule stops at a column-0 label");
  t.equal(findFuncnameAbove(lines, lineOf('int size;'), 'cpp'), 'struct widget {');
  t.equal(findFuncnameAbove(lines, lineOf('int size;'), 'function'), '');
  t.equal(findFuncnameAbove(lines, lineOf('return 0;'), 'function'), 'SYSCALL_DEFINE2(widget_poke, int, fd, int, how)');
  t.equal(findFuncnameAbove(lines, 1, 'default'), '');
});

t.test('definitions compare by identifier', async (t) => {
  t.equal(functionKey('static int io_req_defer_prep(struct io_kiocb *req,'), 'io_req_defer_prep');
  t.equal(functionKey('static __always_inline void *kmalloc_node(size_t size)'), 'kmalloc_node');
  t.equal(functionKey('SYSCALL_DEFINE2(widget_poke, int, fd, int, how)'), 'SYSCALL_DEFINE2(widget_poke');
  t.equal(functionKey('struct widget {'), 'widget');
  t.equal(functionKey('static const char *names[] = {'), 'names');
  t.equal(functionKey('out:'), 'out');
  t.equal(functionKey(''), '');
  t.ok(sameFunction('static int io_req_defer_prep(struct io_kiocb *req,', 'static int io_req_defer_prep(struct io_kiocb *req, const struct io_uring_sqe *sqe)'));
  t.ok(sameFunction('int widget_grow(struct widget *w)', 'static int widget_grow(struct widget *w,'), 'pre-image and result may differ in text');
  t.notOk(sameFunction('static int widget_grow(struct widget *w,', 'int widget_shrink(struct widget *w)'));
  t.notOk(sameFunction('SYSCALL_DEFINE2(widget_poke, int, fd, int, how)', 'SYSCALL_DEFINE2(widget_prod, int, fd, int, how)'));
  t.ok(sameFunction('static int a_function_whose_header_git_cut_off_at_eighty_bytes_because_it_is_very_lo', 'static int a_function_whose_header_git_cut_off_at_eighty_bytes_because_it_is_very_long(void)'));
});

t.test('judging where a hunk landed', async (t) => {
  const at = lineOf('w->size += by;');
  t.same(judgeLanding(lines, at, 'static int widget_grow(struct widget *w,'), { landedFunction: 'static int widget_grow(struct widget *w,', misplaced: false });
  t.same(judgeLanding(lines, lineOf('return 0;'), 'static int widget_grow(struct widget *w,'), {
    landedFunction: 'SYSCALL_DEFINE2(widget_poke, int, fd, int, how)',
    misplaced: true,
  });
  t.same(judgeLanding(lines, lineOf('return w->size;') + 1, 'out:'), { landedFunction: 'out:', misplaced: false }, "a header made by git's default rule (a label) is matched by that rule");
  t.same(judgeLanding(lines, lineOf('return 0;'), 'int other(void)', ['int other(void)']), { landedFunction: 'int other(void)', misplaced: false }, "git's own header for the applied hunk counts");
  t.equal(judgeLanding(lines, 3, '').misplaced, false, 'no header: cannot be judged');
});

const DIFF = `Subject line

---
 a.c | 3 ++-
 2 files changed

diff --git a/src/a.c b/src/a.c
index 1111111..2222222 100644
--- a/src/a.c
+++ b/src/a.c
@@ -10,7 +10,7 @@ int first(void)
 \tctx1;
 \tctx2;
 \tctx3;
-\told;
+\tnew;
 \tctx4;
 \tctx5;
 \tctx6;
@@ -40,3 +40,4 @@ int second(void)
 \ta;

 \tb;
+\tc;
diff --git a/old name.c b/new name.c
similarity index 90%
rename from old name.c
rename to new name.c
diff --git a/gone.c b/gone.c
deleted file mode 100644
index 3333333..0000000
--- a/gone.c
+++ /dev/null
@@ -1 +0,0 @@
-int gone;
\\ No newline at end of file
diff --git a/born.c b/born.c
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/born.c
@@ -0,0 +1,2 @@
+int born;
+-- 
-- 
2.39.5
`;

t.test('unified diffs: files, hunks, headers; the mail signature is not a removal', async (t) => {
  const files = parseUnifiedDiff(DIFF);
  t.same(files.map((f) => [f.oldPath, f.newPath, f.hunks.length]), [
    ['src/a.c', 'src/a.c', 2],
    ['old name.c', 'new name.c', 0],
    ['gone.c', null, 1],
    [null, 'born.c', 1],
  ]);
  const [h1, h2] = files[0]!.hunks;
  t.match(h1, { number: 1, oldStart: 10, oldLines: 7, newStart: 10, newLines: 7, headerFunction: 'int first(void)' });
  t.match(h2, { number: 2, oldStart: 40, oldLines: 3, newLines: 4, headerFunction: 'int second(void)' });
  t.equal(h2!.lines.length, 4, 'an empty context line counts');
  t.same(files[2]!.hunks[0]!.lines, ['-int gone;', '\\ No newline at end of file']);
  t.same(files[3]!.hunks[0]!.lines, ['+int born;', '+-- '], 'counts decide where a hunk ends');
  t.same(touchedPaths(files), ['src/a.c', 'old name.c', 'new name.c', 'gone.c', 'born.c']);
});

t.test('pairing posted hunks with the applied commit gives offsets', async (t) => {
  const posted = parseUnifiedDiff(DIFF);
  const applied = parseUnifiedDiff(DIFF.replace('@@ -10,7 +10,7 @@ int first(void)', '@@ -22,7 +22,7 @@ int first_renamed(void)'));
  const placed = placeHunks(posted, applied);
  t.match(placed[0], { file: 'src/a.c', hunk: 1, offset: 12, landedStart: 22, headerFunction: 'int first(void)', appliedHeaderFunction: 'int first_renamed(void)' });
  t.match(placed[1], { file: 'src/a.c', hunk: 2, offset: 0 });
});

t.test("GNU patch's report", async (t) => {
  const out = [
    'patching file src/a.c',
    'Hunk #1 succeeded at 1234 with fuzz 2 (offset 12 lines).',
    'Hunk #2 FAILED at 56.',
    'Hunk #3 succeeded at 99 (offset -1 line).',
    'Hunk #4 succeeded at 7 with fuzz 1.',
    '1 out of 4 hunks FAILED',
    'patching file new name.c (renamed from old name.c)',
    "can't find file to patch at input line 40",
    'No file to patch.  Skipping patch.',
  ].join('\n');
  const r = parseGnuPatchOutput(out);
  t.same(r.files, [
    {
      file: 'src/a.c',
      hunks: [
        { hunk: 1, status: 'succeeded', line: 1234, fuzz: 2, offset: 12 },
        { hunk: 2, status: 'failed', line: 56, fuzz: 0, offset: 0 },
        { hunk: 3, status: 'succeeded', line: 99, fuzz: 0, offset: -1 },
        { hunk: 4, status: 'succeeded', line: 7, fuzz: 1, offset: 0 },
      ],
    },
    { file: 'new name.c', hunks: [] },
  ]);
  t.same(r.problems, ["can't find file to patch at input line 40", 'No file to patch.  Skipping patch.']);
});
