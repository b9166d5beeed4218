// Bad input is refused before anything is created or built: one error line, exit 2,
// no run directory and no cache entry. Toy trees only; nothing here can build a kernel.
import t from 'tap';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExecs, checkFragments } from '../harness/commands/validate.ts';
import { kconfigSyntaxErrors } from '../harness/kernel/kconfig.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

async function scratch() {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-validate-'));
  const tree = join(dir, 'tree');
  await mkdir(tree);
  await writeFile(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\n');
  await writeFile(join(tree, 'Kconfig'), 'mainmenu "toy"\n');
  await writeFile(join(dir, 'typo.config'), 'CONFIG_A=y\n# a comment\nCONFIG_B y\n');
  return { dir, tree, out: join(dir, 'out'), cache: join(dir, 'cache') };
}

t.test('kconfigSyntaxErrors names the lines a fragment parse would drop', async (t) => {
  t.same(kconfigSyntaxErrors('CONFIG_A=y\n\n# CONFIG_B is not set\n# note\nCONFIG_C y\nCONFIG_D="x y"\nD=y\n'), [
    { line: 5, text: 'CONFIG_C y' },
    { line: 7, text: 'D=y' },
  ]);
});

t.test('checkExecs refuses what the guest plan cannot carry', async (t) => {
  t.doesNotThrow(() => checkExecs(['echo "a b"', "sh -c 'x'"]));
  t.throws(() => checkExecs(['echo "a']), { message: /bad --exec: unterminated "/, exitCode: 2 });
  t.throws(() => checkExecs(['  ']), { message: /--exec needs a command/, exitCode: 2 });
  t.throws(() => checkExecs(['echo "a\tb"']), { message: /tab or newline/, exitCode: 2 });
});

t.test('checkFragments: missing and mistyped fragments are usage errors', async (t) => {
  const s = await scratch();
  await t.rejects(checkFragments([join(s.dir, 'none.config')]), { message: /config fragment .*none.config cannot be read/, exitCode: 2 });
  await t.rejects(checkFragments([join(s.dir, 'typo.config')]), { message: /typo.config:3: expected CONFIG_NAME=value or a # comment, got 'CONFIG_B y'/, exitCode: 2 });
  await t.resolves(checkFragments([join(repo, 'patches/base/x86_64.config'), join(repo, 'patches/base/i386.config')]));
});

t.test('run, bisect and claims refuse bad input before creating the run directory', async (t) => {
  const s = await scratch();
  const cases: [string[], RegExp][] = [
    [['run', '--tree', join(s.dir, 'no-such-tree')], /--tree .*no-such-tree does not exist/],
    [['run', '--tree', s.tree, '--exec', 'echo "unclosed'], /bad --exec: unterminated "/],
    [['run', '--tree', s.tree, '--exec', ''], /--exec needs a command/],
    [['run', '--tree', s.tree, '--add', join(s.dir, 'missing-binary')], /--add .*missing-binary: no such file or directory/],
    [['run', '--tree', s.tree, '--fragment', join(s.dir, 'missing.config')], /config fragment .*missing.config cannot be read/],
    [['run', '--tree', s.tree, '--fragment', join(s.dir, 'typo.config')], /typo.config:3: expected CONFIG_NAME=value/],
    [['run', '--tree', s.tree, '--probe', 'no_such_probe'], /unknown probe no_such_probe/],
    [['run', '--tree', s.tree, '--abi', 'arm64'], /unknown ABI 'arm64'/],
    [['run', '--profile', 'compat-sqpoll-6.1', '--variant', 'no-such-variant', '--tree', s.tree], /has no variant "no-such-variant"/],
    [['bisect', '--tree', s.tree, '--probe', 'no_such_probe', '--patches', s.dir], /unknown probe no_such_probe/],
    [['bisect', '--tree', s.tree, '--probe', 'io_uring_setup', '--fragment', join(s.dir, 'typo.config'), '--patches', s.dir], /typo.config:3/],
    [['bisect', '--tree', join(s.dir, 'no-such-tree'), '--run', 'true', '--patches', s.dir], /does not exist/],
    [['bisect', '--tree', s.tree, '--run', 'true', '--range', 'HEAD~1..HEAD'], /--range needs --tree with git history/],
    [['claims', 'compat-sqpoll-6.1', '--tree', s.tree, '--fragment', join(s.dir, 'typo.config')], /typo.config:3/],
    [['run', '--tree', s.tree, '--junit', join(s.dir, 'no-dir', 'r.xml')], /--junit .*r\.xml: directory .*no-dir does not exist/],
    [['run', '--tree', s.tree, '--ktap', s.dir], /--ktap .*: is a directory, not a file/],
    [['claims', 'compat-sqpoll-6.1', '--tree', s.tree, '--junit', join(s.dir, 'no-dir', 'c.xml')], /--junit .*c\.xml: directory .*no-dir does not exist/],
    [['bisect', '--tree', s.tree, '--run', 'true', '--patches', s.dir, '--html', join(s.dir, 'no-dir', 'b.html')], /--html .*b\.html: directory .*no-dir does not exist/],
  ];
  for (const [args, msg] of cases) {
    const r = await kseries(...args, '--cache', s.cache, '--out', s.out);
    const what = args.join(' ');
    t.equal(r.exitCode, 2, what);
    t.match(r.stderr, msg, what);
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${what}`);
    t.notOk(existsSync(s.out), `no run directory: ${what}`);
  }
});
