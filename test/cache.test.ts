import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore, defaultCacheRoot } from '../harness/cache/store.ts';

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
  const s1 = new CacheStore(root, { pollMs: 10 });
  const s2 = new CacheStore(root, { pollMs: 10, onWait: (o) => waits.push(o) });
  let fills = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = s1.produce('k', 'same', async (dir) => {
    fills++;
    await gate;
    await writeFile(join(dir, 'f'), 'first');
  });
  await new Promise((r) => setTimeout(r, 30));
  const second = s2.produce('k', 'same', async () => {
    fills++;
  });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(existsSync(join(root, 'k', 'same')), false, 'not published while the filler is still working');
  release();
  const [a, b] = await Promise.all([first, second]);
  t.equal(fills, 1);
  t.same([a.hit, b.hit], [false, true]);
  t.equal(waits.length, 1, 'the second producer said it was waiting');
  t.equal(await readFile(join(b.path, 'f'), 'utf8'), 'first');
});

t.test("a dead process's lock is taken over", async (t) => {
  const root = await tmp();
  const store = new CacheStore(root, { pollMs: 10 });
  await mkdir(join(root, 'k', 'key.lock'), { recursive: true });
  // pid 2^22+1 is above pid_max on default systems, so it cannot be alive.
  await writeFile(join(root, 'k', 'key.lock', 'owner'), `${(await import('node:os')).hostname()}:4194305`);
  const r = await store.produce('k', 'key', async (dir) => writeFile(join(dir, 'f'), 'x'));
  t.equal(r.hit, false);
  t.equal(existsSync(join(root, 'k', 'key.lock')), false);
});

t.test('withLock serialises holders of one key', async (t) => {
  const root = await tmp();
  const a = new CacheStore(root, { pollMs: 5 });
  const b = new CacheStore(root, { pollMs: 5 });
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = a.withLock('worktrees', 'w', async () => {
    order.push('a-in');
    await gate;
    order.push('a-out');
    return 1;
  });
  await new Promise((r) => setTimeout(r, 20));
  const second = b.withLock('worktrees', 'w', async () => {
    order.push('b-in');
    return 2;
  });
  await new Promise((r) => setTimeout(r, 30));
  t.same(order, ['a-in'], 'the second holder waits');
  release();
  t.same(await Promise.all([first, second]), [1, 2]);
  t.same(order, ['a-in', 'a-out', 'b-in']);
  t.same(await readdir(a.dir('worktrees')), [], 'lock released');
});
