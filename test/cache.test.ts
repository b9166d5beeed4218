import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { hostname } from 'node:os';
import { rememberedSha256 } from '../harness/cache/file-hash.ts';
import { waitingLine } from '../harness/cache/lock.ts';
import { CacheStore, defaultCacheRoot } from '../harness/cache/store.ts';
import { sha256File } from '../harness/util/hash.ts';

const HOLDER = join(import.meta.dirname, 'fixtures/cache/hold-entry.ts');
// pid 2^22+1 is above pid_max on default systems, so it cannot be alive.
const DEAD_PID = 4194305;

/** Resolve with the producer's result, or fail the test if it is still waiting after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([p, new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms).unref())]);
}

/** Wait until a process's output matches. */
async function until(p: ResultPromise, stream: 'stdout' | 'stderr', re: RegExp): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    p[stream]!.on('data', (c: Buffer) => {
      seen += String(c);
      const m = re.exec(seen);
      if (m) resolve(m[0]);
    });
    void p.then(() => reject(new Error(`process ended without ${re}: ${seen}`)));
  });
}

const holder = (root: string, key: string, go: string) =>
  execa(process.execPath, ['--import', 'tsx', HOLDER, root, key, go], { reject: false, cwd: join(import.meta.dirname, '..') });

const tmp = () => mkdtemp(join(tmpdir(), 'kseries-cache-'));

t.test('default root follows XDG_CACHE_HOME', async (t) => {
  t.equal(defaultCacheRoot({ XDG_CACHE_HOME: '/x/y' }), '/x/y/kseries');
  t.match(defaultCacheRoot({}), /\.cache\/kseries$/);
});

t.test('an entry is filled once, then hit', async (t) => {
  const store = new CacheStore(await tmp());
  let fills = 0;
  const fill = async (dir: string) => {
    fills++;
    await writeFile(join(dir, 'f'), 'v');
  };
  const a = await store.produce('k', 'key1', fill);
  const b = await store.produce('k', 'key1', fill);
  t.equal(fills, 1);
  t.same([a.hit, b.hit], [false, true]);
  t.equal(await readFile(join(b.path, 'f'), 'utf8'), 'v');
  t.equal(await store.lookup('k', 'key1'), a.path);
  t.equal(await store.lookup('k', 'nope'), null);
});

t.test('a failed fill publishes nothing and releases the lock', async (t) => {
  const store = new CacheStore(await tmp());
  await t.rejects(store.produce('k', 'bad', async (dir) => {
    await writeFile(join(dir, 'half'), 'x');
    throw new Error('build failed');
  }), /build failed/);
  t.equal(await store.lookup('k', 'bad'), null);
  t.same(await readdir(store.dir('k')), [], 'no temp dir or lock left behind');
  const ok = await store.produce('k', 'bad', async (dir) => writeFile(join(dir, 'f'), 'ok'));
  t.equal(ok.hit, false, 'the key can be filled afterwards');
});

t.test('concurrent producers of one key: one fills, the other waits and hits', async (t) => {
  const root = await tmp();
  const waits: string[] = [];
  const s1 = new CacheStore(root, {});
  const s2 = new CacheStore(root, { onWait: (o) => waits.push(o) });
  let fills = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let filling!: () => void;
  const inFill = new Promise<void>((r) => (filling = r));
  const first = s1.produce('k', 'same', async (dir) => {
    fills++;
    filling();
    await gate;
    await writeFile(join(dir, 'f'), 'first');
  });
  await inFill;
  const second = s2.produce('k', 'same', async () => {
    fills++;
  });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(existsSync(join(root, 'k', 'same')), false, 'not published while the filler is still working');
  release();
  const [a, b] = await Promise.all([first, second]);
  t.equal(fills, 1);
  t.same([a.hit, b.hit], [false, true]);
  t.equal(waits.length, 1, 'the second producer said it was waiting');
  t.match(waits[0], new RegExp(`^waiting for cache entry k/same \\(locked by pid ${process.pid} since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)$`));
  t.equal(await readFile(join(b.path, 'f'), 'utf8'), 'first');
});

t.test('withLock serialises holders of one key', async (t) => {
  const root = await tmp();
  const a = new CacheStore(root, {});
  const b = new CacheStore(root, {});
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const aIn = new Promise<void>((r) => (entered = r));
  const first = a.withLock('worktrees', 'w', async () => {
    order.push('a-in');
    entered();
    await gate;
    order.push('a-out');
    return 1;
  });
  await aIn;
  const second = b.withLock('worktrees', 'w', async () => {
    order.push('b-in');
    return 2;
  });
  await new Promise((r) => setTimeout(r, 300));
  t.same(order, ['a-in'], 'the second holder waits');
  release();
  t.same(await Promise.all([first, second]), [1, 2]);
  t.same(order, ['a-in', 'a-out', 'b-in']);
  t.same(await readdir(a.dir('worktrees')), [], 'lock released');
});

t.test('a lock directory with no owner file (its owner died after mkdir) is not waited on', async (t) => {
  const root = await tmp();
  await mkdir(join(root, 'k', 'key.lock'), { recursive: true });
  const store = new CacheStore(root, { onWait: () => t.fail('nothing to wait for') });
  const r = await within(store.produce('k', 'key', async (dir) => writeFile(join(dir, 'f'), 'x')), 5000);
  t.not(r, 'still waiting');
  t.equal(await readFile(join(root, 'k', 'key', 'f'), 'utf8'), 'x');
});

t.test('a lock whose owner pid is dead is not waited on', async (t) => {
  const root = await tmp();
  const owner = JSON.stringify({ pid: DEAD_PID, host: hostname(), since: '2020-01-01T00:00:00Z' });
  // Both the old layout (owner file inside a lock dir) and the current one (lock file + owner file).
  await mkdir(join(root, 'k', 'old.lock'), { recursive: true });
  await writeFile(join(root, 'k', 'old.lock', 'owner'), `${hostname()}:${DEAD_PID}`);
  await mkdir(join(root, 'locks', 'k'), { recursive: true });
  await writeFile(join(root, 'locks', 'k', 'new'), '');
  await writeFile(join(root, 'locks', 'k', 'new.owner'), owner);
  const store = new CacheStore(root, { onWait: () => t.fail('nothing to wait for') });
  for (const key of ['old', 'new']) {
    const r = await within(store.produce('k', key, async (dir) => writeFile(join(dir, 'f'), key)), 5000);
    t.not(r, 'still waiting', key);
  }
});

t.test('a lock dies with its owner: a killed filler does not block the next one', async (t) => {
  const root = await tmp();
  const a = holder(root, 'key', join(root, 'never'));
  await until(a, 'stdout', /filling \d+/);
  t.ok(existsSync(join(root, 'k', `key.tmp-${a.pid}`)), 'the filler is half way');
  a.kill('SIGKILL');
  await a;
  const store = new CacheStore(root, { onWait: () => t.fail('the lock should have died with its owner') });
  const r = await within(store.produce('k', 'key', async (dir) => writeFile(join(dir, 'f'), 'mine')), 5000);
  t.not(r, 'still waiting');
  t.equal(await readFile(join(root, 'k', 'key', 'f'), 'utf8'), 'mine');
  t.same((await readdir(join(root, 'k'))).sort(), ['key'], "the killed filler's temp dir was removed");
});

t.test('two real processes contending: one fills, the other says whom it waits for, then hits', async (t) => {
  const root = await tmp();
  const go = join(root, 'go');
  const a = holder(root, 'same', go);
  await until(a, 'stdout', /filling \d+/);
  const b = holder(root, 'same', go);
  const line = await until(b, 'stderr', /kseries: waiting for .*\n/);
  t.match(line, new RegExp(`^kseries: waiting for cache entry k/same \\(locked by pid ${a.pid} since [0-9T:-]+Z\\)\\n$`));
  await writeFile(go, '');
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(ra.stdout.trim().split('\n').at(-1), `filled ${a.pid}`);
  t.equal(rb.stdout.trim(), `hit ${b.pid}`, 'the waiter did not fill again');
  t.equal(await readFile(join(root, 'k', 'same', 'f'), 'utf8'), String(a.pid));
});

t.test('artefacts are recorded at publish and a bad entry is rebuilt with a note saying why', async (t) => {
  const root = await tmp();
  const notes: string[] = [];
  const store = new CacheStore(root, { onNote: (n) => notes.push(n) });
  let fills = 0;
  const fill = async (dir: string) => {
    fills++;
    await mkdir(join(dir, 'build'), { recursive: true });
    await writeFile(join(dir, 'build', 'bzImage'), `kernel image ${fills}`.repeat(100));
  };
  const o = { artefacts: ['build/bzImage'] };
  const first = await store.produce('builds', 'k1', fill, o);
  const m = JSON.parse(await readFile(join(first.path, 'manifest.json'), 'utf8'));
  t.equal(m.files['build/bzImage'].size, 'kernel image 1'.length * 100);
  t.match(m.files['build/bzImage'].sha256, /^[0-9a-f]{64}$/);
  t.equal((await store.produce('builds', 'k1', fill, o)).hit, true, 'an intact entry is a hit');

  const image = join(first.path, 'build', 'bzImage');
  const damage: [string, () => Promise<unknown>, RegExp][] = [
    ['truncated', () => writeFile(image, 'kernel'), /build\/bzImage is 6 bytes, the manifest says \d+/],
    ['empty', () => writeFile(image, ''), /build\/bzImage is 0 bytes/],
    ['same size, other bytes', async () => writeFile(image, (await readFile(image, 'utf8')).replace(/k/g, 'K')), /does not match its sha256/],
    ['missing', () => rm(image), /build\/bzImage is missing/],
    ['no manifest', () => rm(join(first.path, 'manifest.json')), /has no manifest/],
  ];
  for (const [what, hurt, why] of damage) {
    await hurt();
    notes.length = 0;
    const before = fills;
    const r = await store.produce('builds', 'k1', fill, o);
    t.equal(r.hit, false, `${what}: not trusted`);
    t.equal(fills, before + 1, `${what}: rebuilt`);
    t.equal(notes.length, 1, `${what}: one note`);
    t.match(notes[0], why, what);
    t.match(notes[0], /^cache entry .*builds\/k1 is unusable: .*; rebuilding it$/);
    t.equal(await readFile(image, 'utf8'), `kernel image ${fills}`.repeat(100), `${what}: the new image is in place`);
  }
  t.same((await readdir(join(root, 'builds'))).sort(), ['k1'], 'nothing left aside');
});

t.test('an entry that cannot be rebuilt is an infrastructure error (exit 3)', async (t) => {
  const root = await tmp();
  const store = new CacheStore(root, { onNote: () => undefined });
  await t.rejects(store.produce('builds', 'none', async () => undefined, { artefacts: ['build/bzImage'] }), {
    exitCode: 3,
    message: /filled without build\/bzImage/,
  });
  await t.rejects(store.produce('builds', 'empty', async (d) => writeFile(join(d, 'bzImage'), ''), { artefacts: ['bzImage'] }), {
    exitCode: 3,
    message: /filled with an empty bzImage/,
  });
  t.same(await readdir(join(root, 'builds')), [], 'nothing published');
  // A bad entry that cannot be moved aside (here: the aside name is taken by a non-empty directory).
  const ok = await store.produce('builds', 'stuck', async (d) => writeFile(join(d, 'bzImage'), 'x'), { artefacts: ['bzImage'] });
  await writeFile(join(ok.path, 'bzImage'), '');
  await mkdir(join(root, 'builds', `stuck.tmp-bad-${process.pid}`, 'x'), { recursive: true });
  await t.rejects(store.produce('builds', 'stuck', async () => { t.fail('not refilled'); }, { artefacts: ['bzImage'] }), {
    exitCode: 3,
    message: /cache entry .*stuck is unusable \(bzImage is 0 bytes, the manifest says 1\) and cannot be removed/,
  });
});

t.test('whole-directory manifests (guest userland) catch any changed file', async (t) => {
  const store = new CacheStore(await tmp(), { onNote: () => undefined });
  let fills = 0;
  const fill = async (dir: string) => {
    fills++;
    await mkdir(join(dir, 'x86_64'), { recursive: true });
    await writeFile(join(dir, 'x86_64', 'init'), 'ELF init');
    await writeFile(join(dir, 'x86_64', 'probe'), 'ELF probe');
  };
  const a = await store.produce('guest', 'g', fill, { artefacts: 'all' });
  t.same(Object.keys(JSON.parse(await readFile(join(a.path, 'manifest.json'), 'utf8')).files).sort(), ['x86_64/init', 'x86_64/probe']);
  await writeFile(join(a.path, 'x86_64', 'probe'), 'ELF');
  t.equal((await store.produce('guest', 'g', fill, { artefacts: 'all' })).hit, false);
  t.equal(fills, 2);
});

t.test('a remembered file hash is reused only while path, inode, size and times are unchanged', async (t) => {
  const dir = await tmp();
  const f = join(dir, 'big.tar.xz');
  await writeFile(f, 'aaaa');
  let hashed = 0;
  const sum = () => rememberedSha256(f, join(dir, 'memo'), () => hashed++);
  const first = await sum();
  t.equal(first, await sha256File(f));
  t.equal(await sum(), first);
  t.equal(hashed, 1, 'hashed once');
  // Same inode, same size, mtime put back: only ctime tells.
  const st = await stat(f);
  await writeFile(f, 'bbbb');
  await utimes(f, st.atime, st.mtime);
  t.equal(await sum(), await sha256File(f));
  t.not(await sum(), first);
  t.equal(hashed, 2, 'rewritten in place: hashed again');
});

t.test('the waiting line names what, the holder pid, its host when not ours, and since when', async (t) => {
  const owner = { pid: 42, host: 'buildbox', since: '2026-12-02T00:44:12Z' };
  t.equal(waitingLine('cache entry builds/abc', owner, 'buildbox'), 'waiting for cache entry builds/abc (locked by pid 42 since 2026-12-02T00:44:12Z)');
  t.equal(waitingLine('worktrees lock w', owner, 'laptop'), 'waiting for worktrees lock w (locked by pid 42 on buildbox since 2026-12-02T00:44:12Z)');
  t.equal(waitingLine('bisect lock b', null), 'waiting for bisect lock b (locked by another process)');
});
