// A content-addressed cache shared by concurrent kseries processes.
// An entry is filled in a private temporary directory under a per-entry lock
// and published by one atomic rename, so readers never see a half-written entry.
// Locks live under <root>/locks/ and die with their owner (see lock.ts).
import { mkdir, readdir, rm, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { onInterrupt } from '../util/proc.ts';
import { infraError } from '../util/errors.ts';
import { acquireLock, type Release } from './lock.ts';
import { checkManifest, writeManifest, type Artefacts } from './manifest.ts';

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'kseries');
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export interface Produced {
  path: string;
  /** True when the entry was already published (by an earlier run or a concurrent process). */
  hit: boolean;
}

export interface ProduceOptions {
  /**
   * Artefacts whose size and sha256 go into the entry's manifest when it is
   * published and are checked before every use; an entry that fails the check
   * is removed and filled again.
   */
  artefacts?: Artefacts;
  /** A further check of a published entry (after the manifest's): why it cannot be used, or null. */
  verify?: (entryDir: string) => Promise<string | null>;
}

export interface StoreOptions {
  /** One-line notes such as "cache entry X is unusable (why); rebuilding it" (default: stderr). */
  onNote?: (line: string) => void;
  /** Called once, with the line to show, when we start waiting for another process's lock (default: stderr). */
  onWait?: (line: string) => void;
}

export class CacheStore {
  constructor(readonly root: string, private readonly opts: StoreOptions = {}) {}

  dir(kind: string): string {
    return join(this.root, kind);
  }

  entryPath(kind: string, key: string): string {
    return join(this.root, kind, key);
  }

  async lookup(kind: string, key: string): Promise<string | null> {
    const p = this.entryPath(kind, key);
    return (await exists(p)) ? p : null;
  }

  /**
   * Return the published entry, filling it first if needed. `fill` writes into
   * the directory it is given; on success that directory becomes the entry.
   */
  async produce(kind: string, key: string, fill: (tmpDir: string) => Promise<void>, o: ProduceOptions = {}): Promise<Produced> {
    const path = this.entryPath(kind, key);
    const unusable = async () => (o.artefacts ? await checkManifest(path) : null) ?? (o.verify ? await o.verify(path) : null);
    if ((await exists(path)) && (await unusable()) === null) return { path, hit: true };
    await mkdir(this.dir(kind), { recursive: true });
    const release = await this.lock(kind, key, `cache entry ${kind}/${key}`);
    const tmp = `${path}.tmp-${process.pid}`;
    const undo = onInterrupt(async () => {
      await rm(tmp, { recursive: true, force: true });
      await release();
    });
    try {
      // Another process may have published (or replaced a bad entry) while we waited for the lock.
      if (await exists(path)) {
        const why = await unusable();
        if (why === null) return { path, hit: true };
        await this.discard(path, why);
      }
      await this.removeLeftovers(kind, key);
      await mkdir(tmp, { recursive: true });
      await fill(tmp);
      if (o.artefacts) await writeManifest(tmp, o.artefacts);
      await rename(tmp, path);
      return { path, hit: false };
    } finally {
      await rm(tmp, { recursive: true, force: true });
      await release();
      undo();
    }
  }

  /**
   * Run `fn` holding the lock of (kind, key) without publishing anything:
   * for shared mutable things such as a worktree that variants take turns in.
   */
  async withLock<T>(kind: string, key: string, fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir(kind), { recursive: true });
    const release = await this.lock(kind, key, `${kind} lock ${key}`);
    const undo = onInterrupt(release);
    try {
      return await fn();
    } finally {
      await release();
      undo();
    }
  }

  private lock(kind: string, key: string, what: string): Promise<Release> {
    const onWait = this.opts.onWait ?? ((line: string) => process.stderr.write(`kseries: ${line}\n`));
    return acquireLock(join(this.root, 'locks', kind, key), what, onWait);
  }

  /** Move a bad entry aside (one rename, so no reader sees it half removed) and delete it. */
  private async discard(path: string, why: string): Promise<void> {
    (this.opts.onNote ?? ((line: string) => process.stderr.write(`kseries: note: ${line}\n`)))(`cache entry ${path} is unusable: ${why}; rebuilding it`);
    const aside = `${path}.tmp-bad-${process.pid}`;
    try {
      await rename(path, aside);
      await rm(aside, { recursive: true, force: true });
    } catch (e) {
      throw infraError(`cache entry ${path} is unusable (${why}) and cannot be removed: ${(e as Error).message}`);
    }
  }

  /** Under the entry's lock nobody else is filling it: temp dirs left by killed fillers can go. */
  private async removeLeftovers(kind: string, key: string): Promise<void> {
    const names = await readdir(this.dir(kind)).catch(() => [] as string[]);
    for (const n of names) {
      if (n.startsWith(`${key}.tmp-`)) await rm(join(this.dir(kind), n), { recursive: true, force: true });
    }
  }
}
