// reproducer.sh's rebuild mode on a toy tree, with make and qemu replaced by
// stubs on PATH (no kernel build): in the kseries worktree under its lock
// when that path exists, and from the recorded tarball + patches when not.
import t from 'tap';
import { acquireLock } from '../harness/cache/lock.ts';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { TCG } from '../harness/qemu/accel.ts';
import { qemuArgv } from '../harness/qemu/runner.ts';
import { INITRD_PLACEHOLDER, KERNEL_PLACEHOLDER, recordSources, reproducerScript, writeReproducer, type ReproducerSpec } from '../harness/run/rundir.ts';
import { importPlainTree } from '../harness/apply/worktree.ts';
import { sha256File } from '../harness/util/hash.ts';

const root = await mkdtemp(join(tmpdir(), 'kseries-repro-rebuild-'));
t.teardown(() => (process.env.KEEP ? undefined : rm(root, { recursive: true, force: true })));
const gitEnv = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
const git = (cwd: string, ...args: string[]) => execa('git', ['-C', cwd, ...args], { env: gitEnv }).then((r) => r.stdout.trim());

// A toy "kernel" tarball, unpacked and imported as kseries does for a plain tree.
const toy = join(root, 'linux-toy');
await mkdir(join(toy, 'kernel'), { recursive: true });
await writeFile(join(toy, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\n');
await writeFile(join(toy, 'kernel', 'a.c'), 'int a = 1;\n');
const tarball = join(root, 'linux-toy.tar.gz');
await execa('tar', ['-czf', tarball, '-C', root, 'linux-toy']);
const sha = await sha256File(tarball);
const cacheTree = join(root, 'cache', 'trees', sha);
await mkdir(cacheTree, { recursive: true });
await execa('tar', ['-xzf', tarball, '-C', cacheTree, '--strip-components=1']);
const baseCommit = await importPlainTree(cacheTree, 'toy');
// The variant's worktree (cache/worktrees/<key>) with one patch committed on its branch.
const wt = join(root, 'cache', 'worktrees', 'k1');
const wtLock = join(root, 'cache', 'locks', 'worktrees', 'k1');
await git(cacheTree, 'worktree', 'add', '-q', '-B', 'kseries/toy/v', wt, baseCommit);
await writeFile(join(wt, 'kernel', 'a.c'), 'int a = 2; /* patched */\n');
await git(wt, 'commit', '-q', '-am', 'kernel: patch a');
const head = await git(wt, 'rev-parse', 'HEAD');

// Stubs: make logs where it ran, what a.c held and who held the lock; qemu logs -kernel.
const bin = join(root, 'bin');
await mkdir(bin);
await writeFile(
  join(bin, 'make'),
  `#!/bin/sh
for a in "$@"; do [ "$prev" = -C ] && d=$a; prev=$a; done
l="$(dirname "$(dirname "$d")")/locks/worktrees/$(basename "$d")"
if [ -e "$l" ] && ! flock -n "$l" true; then lock=held; else lock=none; fi
echo "make \${*##* } src=$d a=$(cat "$d/kernel/a.c") lock=$lock" >> "$LOG"
`,
);
await writeFile(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\nfor a in "$@"; do [ "$prev" = -kernel ] && echo "qemu $a" >> "$LOG"; prev=$a; done\n');
await chmod(join(bin, 'make'), 0o755);
await chmod(join(bin, 'qemu-system-x86_64'), 0o755);

async function runDirFor(name: string, srcDir: string): Promise<{ dir: string; spec: ReproducerSpec }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config'), 'CONFIG_X86_64=y\n');
  const source = await recordSources(dir, {
    spec: { kind: 'tarball', location: tarball, sha256: sha },
    tree: { srcDir: cacheTree, identity: `tarball:${sha}`, describe: 'toy', version: '6.1', isGit: false },
    variant: { repoDir: cacheTree, baseCommit, head },
  });
  const spec: ReproducerSpec = {
    srcDir,
    checkout: { dir: srcDir, commit: head },
    source,
    makeArch: 'x86_64',
    buildArgs: ['-j2', 'bzImage'],
    buildEnv: {},
    image: 'arch/x86/boot/bzImage',
    qemuArgv: qemuArgv({ arch: X86_64, accel: TCG, kernelImage: KERNEL_PLACEHOLDER, initrd: INITRD_PLACEHOLDER }),
  };
  await writeReproducer(dir, spec);
  return { dir, spec };
}

const run = (dir: string, log: string, args: string[] = []) =>
  execa(join(dir, 'reproducer.sh'), args, { reject: false, env: { PATH: `${bin}:${process.env.PATH}`, LOG: log } });
const logOf = async (log: string) => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

t.test('the script is valid shell in every shape', async (t) => {
  const { spec } = await runDirFor('shapes', wt);
  const { checkout: _c, source: _s, ...plain } = spec;
  const gitSource = { base: { kind: 'git' as const, repo: '/r', commit: baseCommit }, patches: [] };
  for (const s of [spec, plain, { ...plain, source: gitSource }, { ...spec, source: { ...gitSource, patches: ["patches/0001-it's.patch"] } }]) {
    const r = await execa('bash', ['-n'], { input: reproducerScript(s), reject: false });
    t.equal(r.exitCode, 0, r.stderr);
  }
});

t.test('path present: checks the variant out and builds there, holding the kseries lock', async (t) => {
  const { dir } = await runDirFor('present', wt);
  t.same(await readFile(join(dir, 'patches', '0001-kernel-patch-a.patch'), 'utf8').then((p) => p.includes('+int a = 2;')), true, 'patches/ recorded');
  await git(wt, 'checkout', '-q', '--detach', baseCommit); // another variant was built there since
  const log = join(dir, 'log');
  const r = await run(dir, log);
  t.equal(r.exitCode, 0, r.stderr);
  const lines = await logOf(log);
  t.match(lines[0], new RegExp(`^make olddefconfig src=${wt} a=int a = 2; /\\* patched \\*/ lock=held$`));
  t.match(lines[1], /^make bzImage src=.* lock=held$/, 'still locked while building');
  t.equal(lines[2], `qemu ${join(dir, 'build', 'arch/x86/boot/bzImage')}`);
  t.equal(await git(wt, 'rev-parse', 'HEAD'), head);
  t.equal((await execa('flock', ['-n', wtLock, 'true'], { reject: false })).exitCode, 0, 'lock released before the boot');
});

t.test('path present but locked by a live kseries: waits; a leftover owner file does not block', async (t) => {
  const { dir } = await runDirFor('locked', wt);
  const log = join(dir, 'log');
  const release = await acquireLock(wtLock, 'the worktree', () => {}); // kseries' own lock, held by this process
  const child = run(dir, log);
  await new Promise((r) => setTimeout(r, 1500));
  t.same(await logOf(log), [], 'no make while the lock is held');
  await release();
  const r = await child;
  t.equal(r.exitCode, 0);
  t.match(r.stderr, new RegExp(`waiting for .*"pid":${process.pid}.* to release`));
  t.equal((await logOf(log)).length, 3);

  // A holder that was killed leaves its owner file, but flock's lock died with it.
  const dead = await execa('sh', ['-c', 'echo $$']);
  await writeFile(`${wtLock}.owner`, JSON.stringify({ pid: Number(dead.stdout.trim()), host: hostname(), since: '2026-01-01T00:00:00Z' }));
  const log2 = join(dir, 'log2');
  const r2 = await run(dir, log2);
  t.equal(r2.exitCode, 0, r2.stderr);
  t.notMatch(r2.stderr, /waiting/);
  t.equal((await logOf(log2)).length, 3);
});

t.test('path absent: recreates base + patches from the tarball, checks the tree, builds there', async (t) => {
  const gone = join(root, 'cache', 'worktrees', 'gone');
  const { dir, spec } = await runDirFor('absent', gone);
  t.same(spec.source!.patches, ['patches/0001-kernel-patch-a.patch']);
  const log = join(dir, 'log');
  const r = await run(dir, log);
  t.equal(r.exitCode, 0, r.stderr);
  const src = join(dir, 'src');
  t.match((await logOf(log))[0], `make olddefconfig src=${src} a=int a = 2; /* patched */ lock=none`);
  t.equal(await git(src, 'write-tree'), spec.source!.tree, 'the same git tree as was built');

  // The same with the cache gone entirely: only the run dir and the tarball are needed.
  await rename(join(root, 'cache'), join(root, 'cache-away'));
  t.teardown(() => rename(join(root, 'cache-away'), join(root, 'cache')));
  const r2 = await run(dir, join(dir, 'log2'), ['fresh']);
  t.equal(r2.exitCode, 0, r2.stderr);

  // A tarball that is not the recorded one is refused, before make.
  await writeFile(join(dir, 'reproducer.sh'), reproducerScript({ ...spec, source: { ...spec.source!, base: { kind: 'tarball', location: tarball, sha256: '0'.repeat(64) } } }));
  const log3 = join(dir, 'log3');
  const r3 = await run(dir, log3);
  t.equal(r3.exitCode, 2);
  t.match(r3.stderr, /does not have sha256 0{64}/);
  t.same(await logOf(log3), []);
});
