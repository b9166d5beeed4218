import t from 'tap';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore } from '../harness/cache/store.ts';
import { resolveTree } from '../harness/kernel/tree.ts';
import { sha256File } from '../harness/util/hash.ts';

const MAKEFILE = 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 7\nEXTRAVERSION =\n';

async function toyTree(dir: string): Promise<string> {
  await mkdir(join(dir, 'fs'), { recursive: true });
  await writeFile(join(dir, 'Makefile'), MAKEFILE);
  await writeFile(join(dir, 'Kconfig'), 'mainmenu "toy"\n');
  await writeFile(join(dir, 'fs', 'read_write.c'), 'int x;\n');
  return dir;
}

const tmp = (p: string) => mkdtemp(join(tmpdir(), p));

t.test('a plain tree is identified by its files; a change gives a new identity', async (t) => {
  const dir = await toyTree(await tmp('kseries-plain-'));
  const store = new CacheStore(await tmp('kseries-c-'));
  const a = await resolveTree({ kind: 'dir', path: dir }, { store });
  t.equal(a.version, '6.1.7');
  t.equal(a.isGit, false);
  t.match(a.identity, /^dir:[0-9a-f]{32}$/);
  t.equal((await resolveTree({ kind: 'dir', path: dir }, { store })).identity, a.identity, 'stable');
  await writeFile(join(dir, 'fs', 'read_write.c'), 'int y;;\n');
  await utimes(join(dir, 'fs', 'read_write.c'), new Date(), new Date(Date.now() + 5000));
  t.not((await resolveTree({ kind: 'dir', path: dir }, { store })).identity, a.identity);
});

t.test('a git checkout is identified by HEAD, plus a hash of uncommitted changes', async (t) => {
  const dir = await toyTree(await tmp('kseries-git-'));
  const git = (...a: string[]) => execa('git', ['-C', dir, ...a], { env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  await git('init', '-q');
  await git('add', '.');
  await git('commit', '-qm', 'toy');
  const head = (await git('rev-parse', 'HEAD')).stdout.trim();
  const store = new CacheStore(await tmp('kseries-c-'));
  const clean = await resolveTree({ kind: 'dir', path: dir }, { store });
  t.equal(clean.identity, `git:${head}`);
  t.equal(clean.isGit, true);
  await writeFile(join(dir, 'fs', 'read_write.c'), 'int z;\n');
  const dirty = await resolveTree({ kind: 'dir', path: dir }, { store });
  t.match(dirty.identity, new RegExp(`^git:${head}\\+dirty:[0-9a-f]{16}$`));
  t.match(dirty.describe, /uncommitted/);
});

t.test('trees that cannot be built out of tree are refused with exit 2', async (t) => {
  const store = new CacheStore(await tmp('kseries-c-'));
  await t.rejects(resolveTree({ kind: 'dir', path: await tmp('kseries-empty-') }, { store }), { exitCode: 2, message: /not a kernel source tree/ });
  const built = await toyTree(await tmp('kseries-built-'));
  await writeFile(join(built, '.config'), 'CONFIG_X=y\n');
  await t.rejects(resolveTree({ kind: 'dir', path: built }, { store }), { exitCode: 2, message: /make mrproper/ });
});

t.test('a pinned tarball is verified, unpacked once and cached', async (t) => {
  const work = await tmp('kseries-tar-');
  await toyTree(join(work, 'linux-6.1.7'));
  const tarball = join(work, 'linux-6.1.7.tar.xz');
  await execa('tar', ['-cJf', tarball, '-C', work, 'linux-6.1.7']);
  const sum = await sha256File(tarball);
  const store = new CacheStore(await tmp('kseries-c-'));
  const logs: string[] = [];
  const a = await resolveTree({ kind: 'tarball', location: tarball, sha256: sum }, { store, log: (m) => logs.push(m) });
  t.equal(a.identity, `tarball:${sum}`);
  t.equal(a.version, '6.1.7');
  t.equal(a.srcDir, store.entryPath('trees', sum));
  const b = await resolveTree({ kind: 'tarball', location: tarball, sha256: sum.toUpperCase() }, { store, log: (m) => logs.push(m) });
  t.equal(b.srcDir, a.srcDir);
  t.equal(logs.filter((l) => l.startsWith('unpacking')).length, 1, 'unpacked only once');
  await t.rejects(resolveTree({ kind: 'tarball', location: tarball, sha256: '0'.repeat(64) }, { store }), { exitCode: 2, message: /sha256 mismatch/ });
  await t.rejects(resolveTree({ kind: 'tarball', location: tarball, sha256: 'abc' }, { store }), { exitCode: 2, message: /64 hex digits/ });
});

t.test('a tarball URL is downloaded once, verified and unpacked', async (t) => {
  const work = await tmp('kseries-url-');
  await toyTree(join(work, 'linux-6.1.7'));
  const tarball = join(work, 'linux-6.1.7.tar.xz');
  await execa('tar', ['-cJf', tarball, '-C', work, 'linux-6.1.7']);
  const sum = await sha256File(tarball);
  let requests = 0;
  const server = createServer(async (req, res) => {
    requests++;
    if (req.url === '/linux-6.1.7.tar.xz') res.end(await readFile(tarball));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = new CacheStore(await tmp('kseries-c-'));
  const a = await resolveTree({ kind: 'tarball', location: `${base}/linux-6.1.7.tar.xz`, sha256: sum }, { store });
  t.equal(a.version, '6.1.7');
  t.equal(a.identity, `tarball:${sum}`);
  await resolveTree({ kind: 'tarball', location: `${base}/linux-6.1.7.tar.xz`, sha256: sum }, { store });
  t.equal(requests, 1, 'downloaded once');
  const [kept] = await readdir(store.dir('downloads'));
  await writeFile(join(store.dir('downloads'), kept!), 'truncated');
  t.equal((await resolveTree({ kind: 'tarball', location: `${base}/linux-6.1.7.tar.xz`, sha256: sum }, { store })).identity, a.identity);
  t.equal(requests, 2, 'a damaged download is fetched again, not trusted');
  await t.rejects(resolveTree({ kind: 'tarball', location: `${base}/missing.tar.xz`, sha256: 'a'.repeat(64) }, { store }), {
    exitCode: 3,
    message: /HTTP 404/,
  });
});

t.test('the default tree needs linux-source-6.1 and says how to get it', async (t) => {
  const store = new CacheStore(await tmp('kseries-c-'));
  await t.rejects(resolveTree({ kind: 'default' }, { store, defaultTarball: '/nonexistent/linux-source-6.1.tar.xz' }), {
    exitCode: 3,
    message: /make deps/,
  });
});

t.test('--tarball F --sha256 H verifies F itself even when H is already unpacked', async (t) => {
  const work = await tmp('kseries-tar-');
  await toyTree(join(work, 'linux-6.1.7'));
  const tarball = join(work, 'linux-6.1.7.tar.xz');
  await execa('tar', ['-cJf', tarball, '-C', work, 'linux-6.1.7']);
  const sum = await sha256File(tarball);
  const store = new CacheStore(await tmp('kseries-c-'));
  await resolveTree({ kind: 'tarball', location: tarball, sha256: sum }, { store });
  const impostor = join(work, 'linux-6.1.tar.xz');
  await writeFile(impostor, 'not a kernel\n');
  t.equal((await readFile(impostor)).length, 13);
  await t.rejects(resolveTree({ kind: 'tarball', location: impostor, sha256: sum }, { store }), {
    exitCode: 2,
    message: new RegExp(`^sha256 mismatch for ${impostor}: expected ${sum}, got [0-9a-f]{64}$`),
  });
  await t.rejects(resolveTree({ kind: 'tarball', location: join(work, 'nope.tar.xz'), sha256: sum }, { store }), { exitCode: 2, message: /does not exist/ });
  await t.rejects(resolveTree({ kind: 'tarball', location: work, sha256: sum }, { store }), { exitCode: 2, message: /not a file/ });
});

t.test('the default tarball is hashed once and remembered by inode, size and times', async (t) => {
  const work = await tmp('kseries-deftar-');
  await toyTree(join(work, 'linux-source-6.1'));
  const tarball = join(work, 'linux-source-6.1.tar.xz');
  await execa('tar', ['-cJf', tarball, '-C', work, 'linux-source-6.1']);
  const store = new CacheStore(await tmp('kseries-c-'));
  const logs: string[] = [];
  const deps = { store, defaultTarball: tarball, log: (m: string) => logs.push(m) };
  const hashes = () => logs.filter((l) => l.startsWith('hashing')).length;
  const a = await resolveTree({ kind: 'default' }, deps);
  t.equal(a.identity, `tarball:${await sha256File(tarball)}`);
  t.equal(hashes(), 1);
  const b = await resolveTree({ kind: 'default' }, deps);
  t.equal(b.identity, a.identity);
  t.equal(hashes(), 1, 'not hashed again while the file is unchanged');

  // Replaced by another tarball, with the old mtime put back: the inode and ctime give it away.
  await toyTree(join(work, 'other', 'linux-source-6.1'));
  await writeFile(join(work, 'other', 'linux-source-6.1', 'fs', 'read_write.c'), 'int w;\n');
  const other = join(work, 'other.tar.xz');
  await execa('tar', ['-cJf', other, '-C', join(work, 'other'), 'linux-source-6.1']);
  const old = await stat(tarball);
  await rename(other, tarball);
  await utimes(tarball, old.atime, old.mtime);
  const c = await resolveTree({ kind: 'default' }, deps);
  t.equal(hashes(), 2, 'a replaced file is hashed again');
  t.equal(c.identity, `tarball:${await sha256File(tarball)}`);
  t.not(c.identity, a.identity);
});
