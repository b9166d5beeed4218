// A mail cut short must not apply "clean": each patch is checked against the
// diffstat its own mail states, before anything is applied or built.
import t from 'tap';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applySeries } from '../harness/apply/apply-series.ts';
import { checkStatedDiffStats, shortfall, statedDiffStat } from '../harness/apply/stat-check.ts';
import { prepareWorktree, variantBranch } from '../harness/apply/worktree.ts';
import { directoryPatches } from '../harness/variant/patches.ts';
import { diffOf, gitIn, makeRepo, removeTempDirs, replaceOnce, seriesPatch, tempDir } from './fixtures/apply/helpers.ts';

t.teardown(removeTempDirs);

const A = 'int a(void)\n{\n\treturn 1;\n}\n';
const B = 'int b(void)\n{\n\treturn 2;\n}\n';
const BASE = { 'src/a.c': A, 'src/b.c': B };

/** A two-file patch made by git diff --stat -p in a poster repository. */
function twoFileDiff(): string {
  const poster = makeRepo(BASE, 'poster');
  return diffOf(poster, {
    'src/a.c': replaceOnce('\treturn 1;\n', '\tint x = 1;\n\n\treturn x;\n'),
    'src/b.c': replaceOnce('\treturn 2;\n', '\treturn 3;\n'),
  });
}

/** The diff cut where its second file starts, as a truncated mbox leaves it. */
function cutBeforeSecondFile(diff: string): string {
  const second = diff.indexOf('diff --git', diff.indexOf('diff --git') + 1);
  if (second < 0) throw new Error('the fixture diff should have two files');
  return diff.slice(0, second);
}

async function worktreeFor(repo: string, variant: string) {
  return prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'w'), branch: variantBranch('test', variant) });
}

t.test('statedDiffStat reads the per-file lines and the summary of the --- block', async (t) => {
  const body = `Explain.\n\nSigned-off-by: X <x@y>\n---\n src/a.c | 4 +++-\n .../very/long/path/b.c | 2 +-\n {old => new}/c.c | 0\n logo.png | Bin 0 -> 12 bytes\n 4 files changed, 4 insertions(+), 2 deletions(-)\n\ndiff --git a/src/a.c b/src/a.c\n`;
  t.same(statedDiffStat(body), {
    files: 4,
    insertions: 4,
    deletions: 2,
    perFile: [{ path: 'src/a.c', changes: 4 }, { path: '.../very/long/path/b.c', changes: 2 }, { path: '{old => new}/c.c', changes: 0 }, { path: 'logo.png' }],
  });
  t.same(statedDiffStat(`---\n 1 file changed, 1 deletion(-)\n`), { files: 1, insertions: 0, deletions: 1, perFile: [] });
  t.equal(statedDiffStat('No separator, no stat.\n'), undefined, 'a mail without a diffstat states nothing');
  t.equal(statedDiffStat('---\n a | 1 +\ndiff --git a/a b/a\n'), undefined, 'no summary line: not a diffstat');
});

t.test('shortfall: fewer files, fewer lines, a missing or shorter listed file', async (t) => {
  const stated = { files: 2, insertions: 4, deletions: 2, perFile: [{ path: 'src/a.c', changes: 4 }, { path: '.../path/b.c', changes: 2 }] };
  const full = { files: [{ path: 'src/a.c', insertions: 3, deletions: 1 }, { path: 'long/path/b.c', insertions: 1, deletions: 1 }], insertions: 4, deletions: 2 };
  t.equal(shortfall(stated, full), undefined, 'a diff as long as its stat passes (shortened names match by tail)');
  const one = { files: [full.files[0]!], insertions: 3, deletions: 1 };
  t.equal(shortfall(stated, one), "the mail's diffstat says 2 files, +4/-2, its diff has 1 file, +3/-1 (truncated?)");
  const renamed = { files: [full.files[0]!, { path: 'other/b.c', insertions: 1, deletions: 1 }], insertions: 4, deletions: 2 };
  t.equal(shortfall(stated, renamed), "the mail's diffstat lists .../path/b.c, its diff does not touch it (truncated?)");
  const moved = { ...stated, perFile: [{ path: 'src/a.c', changes: 5 }] };
  t.equal(shortfall(moved, full), "the mail's diffstat says src/a.c changes 5 lines, its diff changes 4 (truncated?)");
});

t.test('a patch cut between its two files is refused with exit 2, naming it (the CLI test below shows nothing is applied)', async (t) => {
  const diff = twoFileDiff();
  const p1 = seriesPatch(1, 2, 'a: name the value', { messageId: 'ok@example.org', diff: diffOf(makeRepo(BASE, 'poster'), { 'src/a.c': replaceOnce('return 1;', 'return 10;') }) });
  const p2 = seriesPatch(2, 2, 'a, b: return more', { messageId: 'cut@example.org', diff: cutBeforeSecondFile(diff) });
  await t.rejects(checkStatedDiffStats([p1, p2]), {
    exitCode: 2,
    message: `patch 2/2 "a, b: return more" <cut@example.org>: the mail's diffstat says 2 files, +4/-2, its diff has 1 file, +3/-1 (truncated?)`,
  });
  await t.resolves(checkStatedDiffStats([p1]), 'the whole first patch passes');
});

t.test('a patch cut inside a hunk is refused too (git apply cannot read it; the parser counts)', async (t) => {
  const diff = twoFileDiff();
  const cut = diff.slice(0, diff.lastIndexOf('+\treturn 3;'));
  const p = seriesPatch(1, 1, 'a, b: return more', { messageId: 'mid@example.org', diff: cut });
  await t.rejects(checkStatedDiffStats([p]), { exitCode: 2, message: /^patch 1\/1 "a, b: return more" <mid@example\.org>: the mail's diffstat says 2 files, \+4\/-2, its diff has 2 files, \+3\/-\d \(truncated\?\)$/ });
});

t.test('whole patches and patches without a diffstat apply', async (t) => {
  const diff = twoFileDiff();
  const noStat = cutBeforeSecondFile(diff).replace(/^[\s\S]*?(?=diff --git)/, '');
  t.notMatch(noStat, /files? changed/, 'the stat block is gone');
  const p1 = seriesPatch(1, 2, 'a, b: return more', { messageId: 'whole@example.org', diff });
  const p2 = seriesPatch(2, 2, 'a: no stat', { messageId: 'nostat@example.org', diff: noStat });
  const repo = makeRepo(BASE, 'target');
  const wt = await worktreeFor(repo, 'whole');
  const res = await applySeries({ worktreeDir: wt.worktreeDir, patches: [p1], allowMisplaced: false });
  t.same(res.reports.map((r) => r.method), ['am']);
  await t.resolves(checkStatedDiffStats([p2]), 'a mail without a diffstat is not refused');
});

t.test('directoryPatches refuses a truncated .patch file before anything is applied', async (t) => {
  const dir = tempDir('patches');
  const p = seriesPatch(1, 1, 'a, b: return more', { messageId: 'dir@example.org', diff: cutBeforeSecondFile(twoFileDiff()) });
  writeFileSync(join(dir, '0001-a-b.patch'), p.message.raw);
  await t.rejects(directoryPatches(dir), { exitCode: 2, message: /^patch 1\/1 "a, b: return more" <dir@example\.org>: the mail's diffstat says 2 files/ });
});

t.test('kseries apply on an mbox cut short: one error line, exit 2, no branch made', async (t) => {
  const full = seriesPatch(1, 1, 'a, b: return more', { messageId: 'cli-cut@example.org', diff: twoFileDiff() }).message.raw.toString();
  // The file ends where the second file's diff would start, as a broken download leaves it.
  const mboxFile = join(tempDir('mbox'), 'cut.mbox');
  writeFileSync(mboxFile, full.slice(0, full.lastIndexOf('diff --git')));
  // Dressed as a kernel tree: kseries wants a Makefile and a Kconfig.
  const repo = makeRepo({ ...BASE, Makefile: 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n', Kconfig: 'mainmenu "toy"\n' }, 'target');
  const bin = join(import.meta.dirname, '..', 'bin', 'kseries.js');
  const r = await execa('node', [bin, 'apply', '--tree', repo, '--cache', tempDir('cache'), '--mbox', mboxFile, 'cli-cut@example.org', '--no-lore'], { reject: false, env: { FORCE_COLOR: '0' } });
  t.equal(r.exitCode, 2);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('kseries: error:'));
  t.same(errors, [`kseries: error: patch 1/1 "a, b: return more" <cli-cut@example.org>: the mail's diffstat says 2 files, +4/-2, its diff has 1 file, +3/-1 (truncated?)`]);
  t.equal(gitIn(repo)('branch', '--list', 'kseries/*'), '', 'no variant branch');
});
