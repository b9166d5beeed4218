// kseries check driven the way b4's review mode drives a check command: one
// mail (a patch, or the cover letter) on stdin, a JSON array of
// {tool, status, summary, details?} on stdout, on a toy tree with --run.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitMbox } from '../harness/mail/mbox.ts';
import { TOY_TREE } from './fixtures/series/make-fixtures.ts';

const repo = join(import.meta.dirname, '..');
const mboxPath = join(repo, 'test/fixtures/series/toy-series.mbox');
const RUN = 'grep -q getenv greet.c && exit 1 || exit 0';

async function toyTree(files: Record<string, string> = TOY_TREE): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-check-'));
  for (const [k, v] of Object.entries({ ...files, Makefile: 'VERSION = 6\n', Kconfig: 'x\n' })) await writeFile(join(dir, k), v);
  return dir;
}

async function mailWith(messageId: string): Promise<Buffer> {
  const m = splitMbox(await readFile(mboxPath)).find((x) => x.toString('latin1').includes(`Message-ID: <${messageId}>`));
  if (!m) throw new Error(`no ${messageId} in the fixture`);
  return m;
}

/** As b4 runs it: the mail on stdin, the JSON read from stdout. */
async function check(mail: Buffer, tree: string, extra: string[] = []) {
  const out = await mkdtemp(join(tmpdir(), 'kseries-check-out-'));
  const r = await execa('node', [join(repo, 'bin/kseries.js'), 'check', '--tree', tree, '--cache', join(out, 'cache'), '--out', out, '--no-lore', '--mbox', mboxPath, '--run', RUN, ...extra], { input: mail, reject: false, env: { FORCE_COLOR: '0' } });
  return { ...r, out };
}

t.test('each patch is checked on the series up to it; the output is the JSON array b4 reads', async (t) => {
  const tree = await toyTree();
  const first = await check(await mailWith('20240101090000.1000-2-author@example.org'), tree);
  t.equal(first.exitCode, 0, first.stderr);
  const a = JSON.parse(first.stdout) as { tool: string; status: string; summary: string; details?: string }[];
  t.same(a.map((x) => `${x.tool} ${x.status}`), ['kseries/apply pass', 'kseries/run pass']);
  t.equal(a[0]!.summary, '1 patch applied with git am');
  t.match(a[0]!.details, /^1\/3 toy: add a greeting variable: clean \(git am\)/);
  for (const x of a) t.same(Object.keys(x).filter((k) => !['tool', 'status', 'summary', 'url', 'details'].includes(k)), [], 'only the protocol fields');
  t.same(JSON.parse(await readFile(join(first.out, 'check.json'), 'utf8')), a, 'kept as check.json in the run dir');

  const second = await check(await mailWith('20240101090000.1000-3-author@example.org'), tree, ['--tool', 'ci']);
  const b = JSON.parse(second.stdout) as { tool: string; status: string; summary: string }[];
  t.same(b.map((x) => `${x.tool} ${x.status}`), ['ci/apply pass', 'ci/run fail'], 'patch 2 brings getenv in: the command fails');
  t.equal(b[0]!.summary, '2 patches applied with git am');
  t.match(b[1]!.summary, /failed on the series up to this patch/);
  t.match(second.stderr, /check: ci\/apply pass, ci\/run fail/, 'the human lines go to stderr');
});

t.test('a cover letter checks the whole series', async (t) => {
  const r = await check(await mailWith('20240101090000.1000-1-author@example.org'), await toyTree());
  t.equal(r.exitCode, 0, r.stderr);
  const a = JSON.parse(r.stdout) as { tool: string; status: string; summary: string }[];
  t.equal(a[0]!.summary, '3 patches applied with git am');
});

t.test('a patch that does not apply is a failed check, still answered in JSON', async (t) => {
  const tree = await toyTree({ ...TOY_TREE, 'greet.c': 'int unrelated;\n' });
  const r = await check(await mailWith('20240101090000.1000-2-author@example.org'), tree);
  t.equal(r.exitCode, 0, r.stderr);
  const a = JSON.parse(r.stdout) as { tool: string; status: string; summary: string }[];
  t.same(a.map((x) => `${x.tool} ${x.status}`), ['kseries/apply fail']);
  t.match(a[0]!.summary, /does not apply/);
});

t.test('no mail on stdin: a one-line error, exit 2 and nothing on stdout (b4 shows the tool as failed)', async (t) => {
  const r = await check(Buffer.from(''), await toyTree());
  t.equal(r.exitCode, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, /kseries: error: kseries check reads one mail on stdin/);
});

t.test('--format patchwork: the same results as Patchwork checks', async (t) => {
  const r = await check(await mailWith('20240101090000.1000-3-author@example.org'), await toyTree(), ['--format', 'patchwork']);
  t.equal(r.exitCode, 0, r.stderr);
  t.same(JSON.parse(r.stdout), [
    { state: 'success', context: 'kseries-apply', description: '2 patches applied with git am' },
    { state: 'fail', context: 'kseries-run', description: `\`${RUN}\` failed on the series up to this patch` },
  ]);
  const kept = JSON.parse(await readFile(join(r.out, 'check.json'), 'utf8')) as { tool: string }[];
  t.same(kept.map((x) => x.tool), ['kseries/apply', 'kseries/run'], 'check.json keeps the b4 form');
});

t.test('--run or --probe, exactly one: a usage error before anything is applied', async (t) => {
  const mail = await mailWith('20240101090000.1000-2-author@example.org');
  const out = await mkdtemp(join(tmpdir(), 'kseries-check-out-'));
  const neither = await execa('node', [join(repo, 'bin/kseries.js'), 'check', '--tree', await toyTree(), '--cache', join(out, 'cache'), '--out', out, '--no-lore'], { input: mail, reject: false });
  t.equal(neither.exitCode, 2);
  t.match(neither.stderr, /give --run CMD or --probe NAME\[:ABI\]/);
  t.equal(neither.stdout, '');
  const both = await check(mail, await toyTree(), ['--probe', 'io_uring_setup:compat']);
  t.equal(both.exitCode, 2);
  const bad = await execa('node', [join(repo, 'bin/kseries.js'), 'check', '--tree', await toyTree(), '--cache', join(out, 'cache'), '--out', out, '--no-lore', '--mbox', mboxPath, '--probe', 'no_such_probe'], { input: mail, reject: false });
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /no_such_probe/);
});
