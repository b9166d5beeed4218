import t, { type Test } from 'tap';
import { chmod, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore } from '../harness/cache/store.ts';
import { buildErrorLines, isCompileLine, isObjectLine } from '../harness/kernel/build-log.ts';
import { buildKernel, buildKey } from '../harness/kernel/build.ts';
import { X86_64 } from '../harness/model/arch.ts';
import { kernelVersionFromMakefile } from '../harness/kernel/tree.ts';

const inputs = { treeIdentity: 'tarball:abc', arch: 'x86_64', requestedConfig: 'CONFIG_A=y\n', compiler: 'gcc (Debian 12.2.0-14) 12.2.0' };

t.test('the build key changes with every input and only with them', async (t) => {
  t.equal(buildKey(inputs), 'f5828f7f6050a256c4c7748e', 'the key of existing cache entries (made when a patches id, always empty, was an input)');
  const k = buildKey(inputs);
  t.equal(buildKey({ ...inputs }), k, 'stable');
  t.match(k, /^[0-9a-f]{24}$/);
  for (const field of Object.keys(inputs) as (keyof typeof inputs)[]) {
    t.not(buildKey({ ...inputs, [field]: inputs[field] + 'x' }), k, `${field} is part of the key`);
  }
});

t.test('object lines are counted for progress, other lines are not', async (t) => {
  t.ok(isObjectLine('  CC      kernel/fork.o'));
  t.ok(isObjectLine('  LD      vmlinux'));
  t.ok(isObjectLine('  AS      arch/x86/entry/entry_64.o'));
  t.notOk(isObjectLine('make[1]: Entering directory'));
  t.notOk(isObjectLine('kernel/fork.c:12:1: error: expected'));
});

t.test('the object count quoted in the README and by make bench is the C compilations alone', async (t) => {
  t.ok(isCompileLine('  CC      kernel/fork.o'));
  t.notOk(isCompileLine('  HOSTCC  scripts/basic/fixdep'));
  t.notOk(isCompileLine('  AR      kernel/built-in.a'));
  t.notOk(isCompileLine('  LD      vmlinux'));
});

t.test('the failure digest keeps the error lines, last ones last', async (t) => {
  const log = [
    '  CC      fs/io_uring.o',
    'fs/io_uring.c:99:5: error: implicit declaration of function ‘foo’',
    'fs/io_uring.c:99:5: warning: unused',
    'make[2]: *** [scripts/Makefile.build:250: fs/io_uring.o] Error 1',
    'make: *** [Makefile:1831: fs] Error 2',
  ].join('\n');
  const lines = buildErrorLines(log);
  t.equal(lines.length, 3);
  t.match(lines[0], /implicit declaration/);
  t.match(lines.at(-1), /Error 2/);
  t.same(buildErrorLines('all fine\n  LD vmlinux\n'), []);
});

t.test('kernel version from the top Makefile', async (t) => {
  t.equal(kernelVersionFromMakefile('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 158\nEXTRAVERSION =\nNAME = x\n'), '6.1.158');
  t.equal(kernelVersionFromMakefile('VERSION = 5\nPATCHLEVEL = 9\nSUBLEVEL = 1\nEXTRAVERSION = -rc2\n'), '5.9.1-rc2');
});

// A stand-in for make on PATH: tinyconfig writes a .config, bzImage writes an
// image and counts the builds; MAKE_NO_IMAGE makes it "succeed" without one.
async function fakeMakeOnPath(t: Test): Promise<{ count: () => Promise<number> }> {
  const bin = await mkdtemp(join(tmpdir(), 'kseries-fake-make-'));
  const counter = join(bin, 'builds');
  await writeFile(
    join(bin, 'make'),
    `#!/bin/sh
for a; do case "$a" in O=*) O="\${a#O=}";; esac; t="$a"; done
case "$t" in
  tinyconfig) printf 'CONFIG_TINY=y\\n' > "$O/.config";;
  olddefconfig) ;;
  bzImage) echo "  CC      kernel/fork.o"; echo x >> '${counter}'
    [ -n "$MAKE_FAIL" ] && { echo "$MAKE_FAIL"; exit 2; }
    [ -n "$MAKE_NO_IMAGE" ] && exit 0
    mkdir -p "$O/arch/x86/boot"; head -c 65536 /dev/urandom > "$O/arch/x86/boot/bzImage";;
esac
`,
  );
  await chmod(join(bin, 'make'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  t.teardown(() => {
    process.env.PATH = path;
    delete process.env.MAKE_NO_IMAGE;
    delete process.env.MAKE_FAIL;
  });
  return { count: async () => (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length };
}

t.test('a build cache entry with a damaged or missing bzImage is rebuilt, not booted', async (t) => {
  const make = await fakeMakeOnPath(t);
  const notes: string[] = [];
  const store = new CacheStore(await mkdtemp(join(tmpdir(), 'kseries-c-')), { onNote: (n) => notes.push(n) });
  const run = await mkdtemp(join(tmpdir(), 'kseries-run-'));
  const tree = { srcDir: run, identity: 'tarball:toy', describe: 'toy', version: '6.1.0', isGit: false };
  const req = { tree, arch: X86_64, requested: new Map(), store, logPath: join(run, 'build.log'), jobs: 1 };
  const a = await buildKernel(req);
  t.equal(a.cacheHit, false);
  t.equal((await stat(a.kernelImage)).size, 65536);
  t.equal((await buildKernel(req)).cacheHit, true, 'an intact entry is a hit');
  t.equal(await make.count(), 1);

  await truncate(a.kernelImage, 4096);
  const b = await buildKernel(req);
  t.equal(b.cacheHit, false, 'a truncated bzImage is not trusted');
  t.equal(await make.count(), 2, 'it was rebuilt');
  t.equal((await stat(b.kernelImage)).size, 65536);
  t.match(notes.at(-1), /arch\/x86\/boot\/bzImage is 4096 bytes, the manifest says 65536; rebuilding it/);

  await rm(b.kernelImage);
  const c = await buildKernel(req);
  t.equal(c.cacheHit, false, 'a missing bzImage is rebuilt, not an ENOENT');
  t.match(notes.at(-1), /bzImage is missing/);
  t.equal(await make.count(), 3);
});

t.test('make that exits 0 without producing the image is an infrastructure error (exit 3)', async (t) => {
  await fakeMakeOnPath(t);
  process.env.MAKE_NO_IMAGE = '1';
  const store = new CacheStore(await mkdtemp(join(tmpdir(), 'kseries-c-')));
  const run = await mkdtemp(join(tmpdir(), 'kseries-run-'));
  const tree = { srcDir: run, identity: 'tarball:toy', describe: 'toy', version: '6.1.0', isGit: false };
  await t.rejects(buildKernel({ tree, arch: X86_64, requested: new Map(), store, logPath: join(run, 'build.log'), jobs: 1 }), {
    exitCode: 3,
    message: /make bzImage succeeded but arch\/x86\/boot\/bzImage was not produced/,
  });
  t.same(await readdir(store.dir('builds')), [], 'nothing published');
});

t.test('a compile error is remembered: the same build fails at once next time, until --retry-failed', async (t) => {
  const make = await fakeMakeOnPath(t);
  process.env.MAKE_FAIL = "lib/iov_iter.c:1668:43: error: invalid use of undefined type 'struct compat_iovec'";
  const store = new CacheStore(await mkdtemp(join(tmpdir(), 'kseries-c-')));
  const run = await mkdtemp(join(tmpdir(), 'kseries-run-'));
  const tree = { srcDir: run, identity: 'tarball:toy', describe: 'toy', version: '6.1.0', isGit: false };
  const req = { tree, arch: X86_64, requested: new Map(), store, logPath: join(run, 'build.log'), jobs: 1 };
  await t.rejects(buildKernel(req), { kind: 'build', message: /kernel build failed \(make exit 2\)/ });
  await t.rejects(buildKernel(req), { kind: 'build', message: /remembered from .*; --retry-failed builds it again/, detail: /struct compat_iovec/ });
  t.equal(await make.count(), 1, 'not built again');
  t.match(await readFile(join(run, 'build.log'), 'utf8'), /failed before .* with the same sources, config and compiler/);
  delete process.env.MAKE_FAIL;
  const ok = await buildKernel({ ...req, retryFailed: true });
  t.equal(ok.cacheHit, false);
  t.equal(await make.count(), 2, '--retry-failed builds it');
  t.same(await readdir(store.dir('build-failures')), [], 'and the failure is forgotten once it builds');
});

t.test('a failure of the machine (killed, out of space) is not remembered', async (t) => {
  const make = await fakeMakeOnPath(t);
  process.env.MAKE_FAIL = 'gcc: fatal error: Killed signal terminated program cc1';
  const store = new CacheStore(await mkdtemp(join(tmpdir(), 'kseries-c-')));
  const run = await mkdtemp(join(tmpdir(), 'kseries-run-'));
  const tree = { srcDir: run, identity: 'tarball:toy', describe: 'toy', version: '6.1.0', isGit: false };
  const req = { tree, arch: X86_64, requested: new Map(), store, logPath: join(run, 'build.log'), jobs: 1 };
  await t.rejects(buildKernel(req), { kind: 'build', message: /kernel build failed/ });
  await t.rejects(buildKernel(req), { kind: 'build', message: /^kernel build failed \(make exit 2\); see/ });
  t.equal(await make.count(), 2, 'built again');
});
