// Series in, variants out, through the CLI as a reviewer uses it, on a toy
// tree with synthetic mail (no kernel, no network).
import t from 'tap';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TOY_TREE } from './fixtures/series/make-fixtures.ts';

const repo = join(import.meta.dirname, '..');
const mbox = join(repo, 'test/fixtures/series/toy-series.mbox');
const V1_COVER = '20240101090000.1000-1-author@example.org';
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });
const gitEnv = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

/** The toy project, dressed as a kernel tree (kseries wants a Makefile and a Kconfig). */
async function toyTree(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-toy-'));
  const files = { ...TOY_TREE, Makefile: 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n', Kconfig: 'mainmenu "toy"\n', ...extra };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd, env: gitEnv }).then((r) => r.stdout.trim());

t.test('apply by Message-ID from an mbox: a branch with one commit per patch, the rest of the tree untouched', async (t) => {
  const tree = await toyTree();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const r = await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', mbox, V1_COVER, '-v', '1', '--no-lore', '--json', join(cache, 'apply.json'));
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /^v1: toy: make the greeting configurable \(3 patches\)/m);
  t.match(r.stdout, /1\/3 toy: add a greeting variable: clean \(git am\)/);
  t.match(r.stdout, /branch kseries\/20240101090000\.1000-1-author\/v1 /);
  const report = JSON.parse(await readFile(join(cache, 'apply.json'), 'utf8'));
  t.equal(report.patches.length, 3);
  // Patches 1 and 2 are plain edits that went in as posted. (3 deletes a file the toy tree holds with another mode.)
  t.ok(report.patches.slice(0, 2).every((p: { patchIdPosted: string; patchIdApplied: string }) => p.patchIdPosted === p.patchIdApplied), 'clean patches keep their patch-id');
  const log = (await git(tree, 'log', '--format=%an|%s', report.branch)).split('\n');
  t.same(log, ['A. U. Thor|toy: document GREETING and drop old.sh', 'A. U. Thor|toy: read the greeting from the environment', 'A. U. Thor|toy: add a greeting variable', 'kseries|kseries: import ' + tree + ' (plain tree)']);
  t.equal(await readFile(join(tree, 'greet.c'), 'utf8'), TOY_TREE['greet.c'], "the tree's own files are unchanged");
});

t.test('without -v the latest revision is applied', async (t) => {
  const tree = await toyTree();
  const r = await kseries('apply', '--tree', tree, '--cache', await mkdtemp(join(tmpdir(), 'kseries-cache-')), '--mbox', mbox, V1_COVER, '--no-lore');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /^v2: toy: make the greeting configurable/m);
});

t.test('bad input: one line and exit 2', async (t) => {
  const tree = await toyTree();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const unknown = await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', mbox, 'no-such-id@example.org', '--no-lore');
  t.equal(unknown.exitCode, 2);
  t.match(unknown.stderr, /^kseries: error: Message-ID <no-such-id@example.org> not found in the given sources$/m);
  const corrupt = await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', join(repo, 'test/fixtures/series/corrupt-no-headers.mbox'), V1_COVER);
  t.equal(corrupt.exitCode, 2);
  t.match(corrupt.stderr, /^kseries: error: .*corrupt-no-headers\.mbox/m);
  const offline = await kseries('apply', '--tree', tree, '--cache', cache, 'offline-only@example.org');
  t.equal(offline.exitCode, 2, 'lore unreachable here');
  t.match(offline.stderr, /^kseries: error: .*lore\.kernel\.org/m);
});

t.test('a patch that does not apply names itself and its hunk; the partial branch is kept', async (t) => {
  // greet.c rewritten so patch 1 has nothing to hold on to.
  const tree = await toyTree({ 'greet.c': '/* rewritten */\nint main(void) { return 1; }\n' });
  const r = await kseries('apply', '--tree', tree, '--cache', await mkdtemp(join(tmpdir(), 'kseries-cache-')), '--mbox', mbox, V1_COVER, '-v', '1', '--no-lore');
  t.equal(r.exitCode, 2);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('kseries: error:'));
  t.equal(errors.length, 1);
  t.match(errors[0], /patch 1\/3 "toy: add a greeting variable" .*greet\.c/);
  t.match(await git(tree, 'branch', '--list', 'kseries/*'), /kseries\/20240101090000\.1000-1-author\/v1/);
});

t.test('--patches DIR and --range A..B', async (t) => {
  const tree = await toyTree();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  t.equal((await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', mbox, V1_COVER, '-v', '1', '--no-lore')).exitCode, 0);
  const branch = 'kseries/20240101090000.1000-1-author/v1';
  const dir = await mkdtemp(join(tmpdir(), 'kseries-patches-'));
  await git(tree, 'format-patch', '-q', '-o', dir, `${branch}~3..${branch}`);
  const fromDir = await kseries('apply', '--tree', tree, '--cache', cache, '--patches', dir);
  t.equal(fromDir.exitCode, 0, fromDir.stderr);
  t.match(fromDir.stdout, /applied 3 patch\(es\)/);
  const range = await kseries('apply', '--tree', tree, '--cache', cache, '--range', `${branch}~2..${branch}`);
  t.equal(range.exitCode, 0, range.stderr);
  t.match(range.stdout, /applied 2 patch\(es\)/);
  t.match(range.stdout, /1\/2 toy: read the greeting from the environment: clean/);
});

t.test('profiles: listing, and one clear error per mistake', async (t) => {
  const list = await kseries('variants', 'compat-sqpoll-6.1');
  t.equal(list.exitCode, 0);
  t.match(list.stdout, /^  demo-no-3\s+demo without 3/m);
  const dir = await mkdtemp(join(tmpdir(), 'kseries-profile-'));
  const write = (o: unknown) => writeFile(join(dir, 'profile.json'), JSON.stringify(o));
  const base = { description: 'x', base: { kernel: '6.1' }, probes: ['readv_writev'], series: { s: { messageId: 'a@b' } } };
  const cases: [unknown, RegExp][] = [
    [{ ...base, variants: { v: { patches: [{ series: 'nope' }] } } }, /variant v, patch 1: unknown series "nope"/],
    [{ ...base, variants: { v: { patches: [{ series: 's', select: '1-x' }] } } }, /"select" must look like 1-3,5/],
    [{ ...base, variants: { v: { patches: [{ file: 'missing.patch' }] } } }, /patch file missing.patch does not exist/],
    [{ ...base, probes: 'all', variants: { v: { patches: [] } } }, /"probes" must be a list/],
  ];
  for (const [profile, msg] of cases) {
    await write(profile);
    const r = await kseries('variants', dir);
    t.equal(r.exitCode, 2);
    t.match(r.stderr, msg);
  }
  const run = await kseries('run', '--profile', 'pf-force-compat', '--variant', 'v1');
  t.equal(run.exitCode, 2);
  t.match(run.stderr, /based on Linux 5\.9\.1: pass --tree .* or --tarball/);
  const noVariant = await kseries('run', '--profile', 'compat-sqpoll-6.1', '--variant', 'nope');
  t.match(noVariant.stderr, /has no variant "nope" \(have: base, demo/);
});
