// sha256 of a big local file that rarely changes (Debian's 140 MB kernel
// source tarball), remembered by the file's identity, so it is hashed once and
// not on every run. The identity is path, device, inode, size, mtime and
// ctime: rewriting, replacing or touching the file changes at least one.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256, sha256File } from '../util/hash.ts';

interface Remembered {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  sha256: string;
}

/** The file's sha256, from `memoDir` when the file is unchanged since it was last hashed. */
export async function rememberedSha256(path: string, memoDir: string, onHash?: () => void): Promise<string> {
  const abs = resolve(path);
  const s = await stat(abs);
  const id = { path: abs, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  const memo = join(memoDir, `${sha256(abs).slice(0, 24)}.json`);
  const old = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as Remembered, () => null);
  if (old && (Object.keys(id) as (keyof typeof id)[]).every((k) => old[k] === id[k]) && /^[0-9a-f]{64}$/.test(old.sha256)) return old.sha256;
  onHash?.();
  const sum = await sha256File(abs);
  // Only remember it if the file did not change while we read it.
  const after = await stat(abs);
  if (after.mtimeMs === s.mtimeMs && after.ctimeMs === s.ctimeMs && after.size === s.size && after.ino === s.ino) {
    await mkdir(memoDir, { recursive: true });
    const tmp = `${memo}.${process.pid}`;
    await writeFile(tmp, JSON.stringify({ ...id, sha256: sum } satisfies Remembered));
    await rename(tmp, memo);
  }
  return sum;
}
