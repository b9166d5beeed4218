// kseries bisect through the CLI with --run on toy trees (no kernel): the
// series prefixes and a git range.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOY_TREE } from './fixtures/series/make-fixtures.ts';
import { schemaErrors } from './fixtures/json/validate.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });
const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

async function toyTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-bisect-'));
  for (const [k, v] of Object.entries({ ...TOY_TREE, Makefile: 'VERSION = 6\n', Kconfig: 'x\n' })) await writeFile(join(dir, k), v);
  return dir;
}

t.test('--run over the prefixes of a series names the patch that changes the answer', async (t) => {
  const tree = await toyTree();
  const out = await mkdtemp(join(tmpdir(), 'kseries-bisect-out-'));
  const r = await kseries('bisect', '--tree', tree, '--cache', join(out, 'cache'), '--out', out, '--no-lore',
    '--mbox', join(repo, 'test/fixtures/series/toy-series.mbox'), '--series', '20240101090000.1000-1-author@example.org', '-v', '1',
    '--run', 'grep -q getenv greet.c && exit 1 || exit 0');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /first change: prefix 2\/3, patch 2\/3 "toy: read the greeting from the environment"/);
  const json = JSON.parse(await readFile(join(out, 'bisect.json'), 'utf8'));
  t.same(schemaErrors(json), [], 'bisect.json validates against its schema');
  t.equal(json.status, 'found');
  t.equal(json.firstBad, 2);
  t.same(json.steps.map((s: { k: number }) => s.k), [0, 3, 1, 2], 'both ends first, then the middle');
  const text = await readFile(join(out, 'bisect.txt'), 'utf8');
  t.match(text, /^kseries bisect: "[^"]+" v1 \(3 patches\)\n/);
  t.match(text, /watching: --run 'grep -q getenv greet\.c && exit 1 \|\| exit 0'/);
  t.match(text, /first change: prefix 2\/3, patch 2\/3 "toy: read the greeting from the\s+environment"/);
  t.same(text.split('\n').filter((l) => l.length > 72), [], 'bisect.txt fits 72 columns');
  for (const local of [out, tree]) t.notOk(text.includes(local), `bisect.txt names no local path (${local})`);
});

t.test('--run over a git range drives git bisect in a worktree, leaving the checkout alone', async (t) => {
  const dir = await toyTree();
  const git = (...a: string[]) => execa('git', a, { cwd: dir, env }).then((r) => r.stdout.trim());
  await git('init', '-q');
  await git('add', '.');
  await git('commit', '-qm', '0');
  for (let i = 1; i <= 12; i++) {
    await writeFile(join(dir, 'value'), `${i}\n`);
    await git('add', 'value');
    await git('commit', '-qm', String(i));
  }
  const head = await git('rev-parse', 'HEAD');
  const r = await kseries('bisect', '--tree', dir, '--cache', await mkdtemp(join(tmpdir(), 'kseries-c-')), '--out', await mkdtemp(join(tmpdir(), 'kseries-o-')),
    '--range', 'HEAD~12..HEAD', '--run', 'test ! -f value || test $(cat value) -lt 9');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /first bad commit: [0-9a-f]{12} 9\b/);
  t.equal(await git('rev-parse', 'HEAD'), head, 'the checkout is where it was');
  t.equal(await git('status', '--porcelain'), '');
});

t.test('usage: exactly one of --probe and --run; a probe spec names a known ABI', async (t) => {
  const both = await kseries('bisect', '--profile', 'compat-sqpoll-6.1', '--variant', 'demo', '--probe', 'x', '--run', 'true');
  t.equal(both.exitCode, 2);
  t.match(both.stderr, /exactly one of --probe/);
  const abi = await kseries('bisect', '--profile', 'compat-sqpoll-6.1', '--variant', 'demo', '--probe', 'io_uring_setup:arm64');
  t.equal(abi.exitCode, 2);
  t.match(abi.stderr, /NAME\[:ABI\]/);
});
