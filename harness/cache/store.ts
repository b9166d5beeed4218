// A content-addressed cache shared by concurrent kseries processes.
// An entry is filled in a private temporary directory under a per-entry lock
// and published by one atomic rename, so readers never see a half-written entry.
import { mkdir, rm, rename, stat, writeFile, readFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { onInterrupt } from '../util/proc.ts';

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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Produced {
  path: string;
  /** True when the entry was already published (by an earlier run or a concurrent process). */
  hit: boolean;
}

export interface StoreOptions {
  /** How often to re-check a lock held by another live process. */
  pollMs?: number;
  /** Called once when we start waiting on another process's lock. */
  onWait?: (owner: string) => void;
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
  async produce(kind: string, key: string, fill: (tmpDir: string) => Promise<void>): Promise<Produced> {
    const path = this.entryPath(kind, key);
    if (await exists(path)) return { path, hit: true };
    await mkdir(this.dir(kind), { recursive: true });
    const release = await this.lock(path);
    const tmp = `${path}.tmp-${process.pid}`;
    const undo = onInterrupt(async () => {
      await rm(tmp, { recursive: true, force: true });
      await release();
    });
    try {
      // Another process may have published while we waited for the lock.
      if (await exists(path)) return { path, hit: true };
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      await fill(tmp);
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
    const release = await this.lock(this.entryPath(kind, key));
    const undo = onInterrupt(release);
    try {
      return await fn();
    } finally {
      await release();
      undo();
    }
  }

  /** mkdir is atomic, so a lock directory holds one owner; a dead owner's lock is taken over. */
  private async lock(path: string): Promise<() => Promise<void>> {
    const lockDir = `${path}.lock`;
    const me = `${hostname()}:${process.pid}`;
    let waited = false;
    for (;;) {
      try {
        await mkdir(lockDir);
        await writeFile(join(lockDir, 'owner'), me);
        return async () => {
          await rm(lockDir, { recursive: true, force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = await readFile(join(lockDir, 'owner'), 'utf8').catch(() => '');
      const [host, pidText] = owner.split(':');
      const pid = Number(pidText);
      if (owner !== '' && host === hostname() && Number.isInteger(pid) && !pidAlive(pid)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!waited) {
        waited = true;
        this.opts.onWait?.(owner || 'unknown');
      }
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 1000));
    }
  }
}
