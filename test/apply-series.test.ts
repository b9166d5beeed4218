import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applySeries, normalizeMail } from '../harness/apply/apply-series.ts';
import { prepareWorktree, variantBranch } from '../harness/apply/worktree.ts';
import { runCommand, type CommandRunner } from '../harness/util/proc.ts';
import { commitFiles, diffOf, fillerFunctions, gitIn, makeRepo, replaceOnce, seriesPatch, removeTempDirs, tempDir } from './fixtures/apply/helpers.ts';

t.teardown(removeTempDirs);

const CORE = `#include <linux/kernel.h>

static int counter;

int alpha(int x)
{
\tint a = x + 1;
\tint b = a * 2;
\tint c = b - 3;

\tcounter += c;
\treturn c;
}

int beta(int y)
{
\tint p = y - 1;
\tint q = p * 4;
\tint r = q + 5;

\tcounter -= r;
\treturn r;
}
`;

const UTIL = `#include <linux/kernel.h>

${fillerFunctions('util', 3)}int gamma(int z)
{
\tint k = z ^ 7;
\tint m = k + 1;

\tk += m;
\treturn k;
}
`;

// Two functions with the same body: a hunk meant for one can land in the other.
const HANDLER = (name: string, init = 'int r = v;', step = 'r *= 2;') => `int ${name}(int v)
{
\t${init}
\tr += 10;
\t${step}
\tr -= 1;
\tlog_it(r);
\treturn r;
}
`;
const IO = `#include <linux/kernel.h>

${HANDLER('first_handler')}
${HANDLER('second_handler')}`;

const BASE = { 'src/core.c': CORE, 'src/util.c': UTIL, 'src/io.c': IO };

async function worktreeFor(repo: string, variant: string) {
  return prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'w'), branch: variantBranch('test', variant) });
}

const changeAlpha = replaceOnce('int c = b - 3;', 'int c = b - 4;');
const changeGamma = replaceOnce('k += m;', 'k -= m;');

t.test('clean series: git am, one commit per patch, author, date and message kept', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const p1 = seriesPatch(1, 2, 'core: make alpha subtract four', { messageId: 'p1@example.org', diff: diffOf(poster, { 'src/core.c': changeAlpha }) });
  const p2 = seriesPatch(2, 2, 'util: gamma subtracts', {
    messageId: 'p2@example.org',
    from: 'Bob Other <bob@example.org>',
    date: 'Sat, 19 Sep 2020 09:00:00 -0700',
    body: 'Nine is better.\n\nSigned-off-by: Bob Other <bob@example.org>',
    diff: diffOf(poster, { 'src/util.c': changeGamma }),
  });
  const repo = makeRepo(BASE, 'target');
  const wt = await worktreeFor(repo, 'clean');
  const res = await applySeries({ worktreeDir: wt.worktreeDir, patches: [p1, p2], allowMisplaced: false });
  const git = gitIn(wt.worktreeDir);

  t.same(res.reports.map((r) => r.method), ['am', 'am']);
  t.same(res.reports.map((r) => r.hunks), [[], []]);
  t.same(res.reports.map((r) => r.messageId), ['p1@example.org', 'p2@example.org']);
  t.equal(res.head, git('rev-parse', 'HEAD'));
  t.equal(git('rev-list', '--count', `${wt.baseCommit}..HEAD`), '2', 'one commit per patch');
  t.equal(res.reports[1]!.commit, res.head);
  t.equal(git('rev-parse', 'HEAD~1'), res.reports[0]!.commit);
  const log = git('log', '--format=%an <%ae>|%ad|%cn <%ce>|%s|%b', '--date=raw', '-1', res.reports[1]!.commit);
  t.equal(log, 'Bob Other <bob@example.org>|1600531200 -0700|kseries <kseries@localhost>|util: gamma subtracts|Nine is better.\n\nSigned-off-by: Bob Other <bob@example.org>');
  t.match(git('log', '-1', '--format=%s|%ad', '--date=raw', res.reports[0]!.commit), 'core: make alpha subtract four|1600433125 +0200');
  for (const r of res.reports) {
    t.match(r.patchIdPosted, /^[0-9a-f]{40}$/);
    t.equal(r.patchIdApplied, r.patchIdPosted, `patch ${r.index} went in unchanged`);
  }
  t.equal(git('symbolic-ref', '--short', 'HEAD'), 'kseries/test/clean');
  t.equal(gitIn(repo)('symbolic-ref', '--short', 'HEAD'), 'main', "the user's checkout is left alone");
});

t.test('git am with an offset records it, landed in the header function', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const p = seriesPatch(1, 1, 'util: gamma subtracts', { messageId: 'off@example.org', diff: diffOf(poster, { 'src/util.c': changeGamma }) });
  const repo = makeRepo({ ...BASE, 'src/util.c': UTIL.replace('#include <linux/kernel.h>\n', `#include <linux/kernel.h>\n\n${fillerFunctions('extra', 2)}`) }, 'target');
  const wt = await worktreeFor(repo, 'offset');
  const [r] = (await applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false })).reports;
  t.equal(r!.method, 'am');
  t.equal(r!.hunks.length, 1);
  t.match(r!.hunks[0], { file: 'src/util.c', hunk: 1, offset: 17, fuzz: 0, headerFunction: 'int gamma(int z)', landedFunction: 'int gamma(int z)', misplaced: false });
  t.equal(r!.patchIdApplied, r!.patchIdPosted, 'an offset does not change the patch id');
});

t.test('a patch whose context changed near the hunk goes in with git am -3 when its pre-image is in history', async (t) => {
  const repo = makeRepo(BASE, 'target');
  const p = seriesPatch(1, 1, 'core: make alpha subtract four', { messageId: 'three@example.org', diff: diffOf(repo, { 'src/core.c': changeAlpha }) });
  commitFiles(repo, { 'src/core.c': CORE.replace('int a = x + 1;', 'int a = x + 100;') }, 'later change near the hunk');
  const wt = await worktreeFor(repo, 'three');
  const [r] = (await applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false })).reports;
  t.equal(r!.method, 'am-3way');
  const text = readFileSync(join(wt.worktreeDir, 'src/core.c'), 'utf8');
  t.match(text, /int a = x \+ 100;\n\tint b = a \* 2;\n\tint c = b - 4;/, 'both changes present');
});

t.test('a patch that only applies with fuzz: method fuzzy, fuzz and offset reported, same function', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const p = seriesPatch(1, 1, 'core: make alpha subtract four', {
    messageId: 'fuzz@example.org',
    from: 'Fuzzy Poster <fuzzy@example.org>',
    date: 'Mon, 21 Sep 2020 08:00:00 +0000',
    diff: diffOf(poster, { 'src/core.c': changeAlpha }),
  });
  // No shared history (so no -3), three lines more at the top, and a changed context line.
  const target = CORE.replace('static int counter;\n', 'static int counter;\nstatic int other;\nstatic int third;\nstatic int fourth;\n').replace('int a = x + 1;', 'int a = x + 100;');
  const repo = makeRepo({ ...BASE, 'src/core.c': target }, 'target');
  const wt = await worktreeFor(repo, 'fuzzy');
  const res = await applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false });
  const r = res.reports[0]!;
  t.equal(r.method, 'fuzzy');
  t.equal(r.hunks.length, 1);
  t.match(r.hunks[0], { file: 'src/core.c', hunk: 1, offset: 3, headerFunction: 'int alpha(int x)', landedFunction: 'int alpha(int x)', misplaced: false });
  t.ok(r.hunks[0]!.fuzz > 0, `fuzz ${r.hunks[0]!.fuzz}`);
  t.not(r.patchIdApplied, r.patchIdPosted, 'the fuzzed patch changed on the way in');
  const git = gitIn(wt.worktreeDir);
  t.equal(git('log', '-1', '--format=%an <%ae>|%ad|%s', '--date=raw'), 'Fuzzy Poster <fuzzy@example.org>|1600675200 +0000|core: make alpha subtract four');
  t.match(git('log', '-1', '--format=%b'), /^Explain the change\.\n\nSigned-off-by: Fuzzy Poster/);
  t.match(readFileSync(join(wt.worktreeDir, 'src/core.c'), 'utf8'), /int a = x \+ 100;\n\tint b = a \* 2;\n\tint c = b - 4;/);
  t.equal(git('status', '--porcelain'), '', 'nothing left behind');
  t.equal(git('rev-list', '--count', `${wt.baseCommit}..HEAD`), '1');
});

t.test('a hunk that fuzzes into a look-alike function is refused (exit 2), or accepted and marked misplaced', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const stepSecond = (text: string) => text.replace(/(int second_handler[\s\S]*?)r \*= 2;/, '$1r *= 3;');
  const p = seriesPatch(1, 1, 'io: second handler triples', { messageId: 'mis@example.org', diff: diffOf(poster, { 'src/io.c': stepSecond }) });
  t.match(p.message.raw.toString(), /@@ int second_handler\(int v\)/, 'the header names the intended function');
  // The target's second_handler no longer has the line; first_handler has it, with one context line changed.
  const io = `#include <linux/kernel.h>\n\n${HANDLER('first_handler', 'int r = v + 0;')}\n${HANDLER('second_handler', 'int r = v;', 'r <<= 1;')}`;
  const repo = makeRepo({ ...BASE, 'src/io.c': io }, 'target');

  const wt = await worktreeFor(repo, 'refuse');
  await t.rejects(applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false }), {
    exitCode: 2,
    message: /^patch 1\/1 "io: second handler triples" refused: src\/io\.c hunk #1 landed in first_handler but its @@ header names second_handler \(fuzz 2, offset -10\); allow with --allow-misplaced$/,
  });
  const git = gitIn(wt.worktreeDir);
  t.equal(git('rev-parse', 'HEAD'), wt.baseCommit, 'the refused patch is not left on the branch');
  t.equal(git('status', '--porcelain'), '');

  const wt2 = await worktreeFor(repo, 'allow');
  const [r] = (await applySeries({ worktreeDir: wt2.worktreeDir, patches: [p], allowMisplaced: true })).reports;
  t.equal(r!.method, 'fuzzy');
  t.match(r!.hunks[0], { file: 'src/io.c', hunk: 1, fuzz: 2, offset: -10, headerFunction: 'int second_handler(int v)', landedFunction: 'int first_handler(int v)', misplaced: true });
  t.match(readFileSync(join(wt2.worktreeDir, 'src/io.c'), 'utf8'), /first_handler[\s\S]*r \*= 3;[\s\S]*second_handler/);
});

t.test('a patch that does not apply stops the series, names patch and hunk, keeps the branch', async (t) => {
  const poster = makeRepo({ ...BASE, 'src/core.c': CORE.replace('int r = q + 5;', 'int r = q + 5;\n\tint zzz = 0;') }, 'poster');
  const good1 = seriesPatch(1, 3, 'util: gamma subtracts', { messageId: 'g1@example.org', diff: diffOf(poster, { 'src/util.c': changeGamma }) });
  const bad = seriesPatch(2, 3, 'drop zzz', {
    messageId: 'bad@example.org',
    diff: diffOf(poster, {
      'src/util.c': replaceOnce('return k;', 'return k + 1;'),
      'src/core.c': replaceOnce('\tint zzz = 0;\n', ''),
    }),
  });
  const good3 = seriesPatch(3, 3, 'core: make alpha subtract four', { messageId: 'g3@example.org', diff: diffOf(poster, { 'src/core.c': changeAlpha }) });
  const repo = makeRepo(BASE, 'target');
  const wt = await worktreeFor(repo, 'broken');
  const err = await applySeries({ worktreeDir: wt.worktreeDir, patches: [good1, bad, good3], allowMisplaced: false }).then(
    () => undefined,
    (e: unknown) => e as { exitCode: number; message: string; detail?: string },
  );
  t.ok(err, 'rejected');
  t.equal(err!.exitCode, 2);
  t.equal(err!.message, 'patch 2/3 "drop zzz" does not apply: src/core.c hunk #1 failed (git am, git am -3 and fuzzy patch all failed)');
  t.notMatch(err!.message, /\n/, 'one line');
  t.match(err!.detail, /Hunk #1 FAILED/);
  const git = gitIn(wt.worktreeDir);
  t.equal(git('rev-list', '--count', `${wt.baseCommit}..HEAD`), '1', 'the patch before it stays committed');
  t.equal(git('log', '-1', '--format=%s'), 'util: gamma subtracts');
  t.equal(git('status', '--porcelain', '--ignored'), '', 'no half-applied files, no .rej/.orig');
  t.notOk(readdirSync(join(wt.worktreeDir, 'src')).some((f) => /\.(rej|orig)$/.test(f)));
  t.match(readFileSync(join(wt.worktreeDir, 'src/util.c'), 'utf8'), /return k;/, 'the hunk that did apply was undone');
  t.ok(existsSync(wt.worktreeDir), 'worktree kept for inspection');
});

t.test('mails stored with CRLF everywhere lose them; content CRs stay', async (t) => {
  t.equal(normalizeMail(Buffer.from('a\r\nb\r\n')).toString(), 'a\nb\n');
  t.equal(normalizeMail(Buffer.from('a\nb\r\nc')).toString(), 'a\nb\r\nc\n');
});

t.test('a patch already in the tree is refused, not silently skipped', async (t) => {
  const repo = makeRepo(BASE, 'target');
  const diff = diffOf(repo, { 'src/core.c': changeAlpha });
  const p1 = seriesPatch(1, 2, 'core: make alpha subtract four', { messageId: 'a1@x', diff });
  const p2 = seriesPatch(2, 2, 'core: the same again', { messageId: 'a2@x', diff });
  const wt = await worktreeFor(repo, 'twice');
  await t.rejects(applySeries({ worktreeDir: wt.worktreeDir, patches: [p1, p2], allowMisplaced: false }), {
    exitCode: 2,
    message: /^patch 2\/2 "core: the same again" changes nothing here \(already in the base\?\); am-3way made no commit$/,
  });
  t.equal(gitIn(wt.worktreeDir)('rev-list', '--count', `${wt.baseCommit}..HEAD`), '1');
});

t.test('no usable GNU patch for a patch that needs fuzz is an infrastructure error (exit 3)', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const p = seriesPatch(1, 1, 'core: make alpha subtract four', { messageId: 'np@x', diff: diffOf(poster, { 'src/core.c': changeAlpha }) });
  const repo = makeRepo({ ...BASE, 'src/core.c': CORE.replace('int a = x + 1;', 'int a = x + 100;') }, 'target');
  const wt = await worktreeFor(repo, 'nopatch');
  const run: CommandRunner = (file, args, opts) =>
    file === 'patch' ? Promise.resolve({ exitCode: 0, stdout: 'patch 2.7.6 (busybox)', stderr: '', failed: false, timedOut: false }) : runCommand(file, args, opts);
  await t.rejects(applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false, run }), { exitCode: 3, message: /needs GNU patch/ });
  t.equal(gitIn(wt.worktreeDir)('status', '--porcelain'), '');
});

t.test('git am itself can move a hunk into a look-alike function: judged the same way', async (t) => {
  const poster = makeRepo(BASE, 'poster');
  const stepSecond = (text: string) => text.replace(/(int second_handler[\s\S]*?)r \*= 2;/, '$1r *= 3;');
  const p = seriesPatch(1, 1, 'io: second handler triples', { messageId: 'am-mis@x', diff: diffOf(poster, { 'src/io.c': stepSecond }) });
  const io = `#include <linux/kernel.h>\n\n${HANDLER('first_handler')}\n${HANDLER('second_handler', 'int r = v;', 'r <<= 1;')}`;
  const repo = makeRepo({ ...BASE, 'src/io.c': io }, 'target');
  const wt = await worktreeFor(repo, 'am-refuse');
  await t.rejects(applySeries({ worktreeDir: wt.worktreeDir, patches: [p], allowMisplaced: false }), {
    exitCode: 2,
    message: /src\/io\.c hunk #1 landed in first_handler but its @@ header names second_handler \(offset -10\)/,
  });
  const wt2 = await worktreeFor(repo, 'am-allow');
  const [r] = (await applySeries({ worktreeDir: wt2.worktreeDir, patches: [p], allowMisplaced: true })).reports;
  t.equal(r!.method, 'am');
  t.match(r!.hunks, [{ fuzz: 0, offset: -10, landedFunction: 'int first_handler(int v)', misplaced: true }]);
});
