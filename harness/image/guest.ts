// Compile the guest userland (images/: init and probes, static, i386,
// x86_64 and x32), cached by the sources' content and the compiler version.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import { infraError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import { IMAGES_DIR } from '../util/paths.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

export { IMAGES_DIR };

async function listSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    if (ent.name === 'out' || ent.name.startsWith('.')) continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...(await listSources(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Probe names: one C file per probe family under images/probes/. */
export async function listProbes(imagesDir = IMAGES_DIR): Promise<string[]> {
  return (await readdir(join(imagesDir, 'probes'))).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort();
}

export interface GuestBuild {
  dir: string;
  cacheHit: boolean;
  probes: string[];
}

export async function buildGuest(
  store: CacheStore,
  compiler: string,
  run: CommandRunner = runCommand,
  imagesDir = IMAGES_DIR,
): Promise<GuestBuild> {
  const files = await listSources(imagesDir);
  const parts: string[] = [compiler];
  for (const f of files) parts.push(relative(imagesDir, f), (await readFile(f)).toString('base64'));
  const key = sha256(...parts).slice(0, 24);
  const produced = await store.produce('guest', key, async (tmp) => {
    const r = await run('make', ['-C', imagesDir, `OUT=${tmp}`, `-j2`, 'all']);
    if (r.exitCode !== 0) {
      const why = r.spawnError ?? (r.stderr.trim().split('\n').slice(-4).join(' | ') || `exit ${r.exitCode}`);
      throw infraError(`guest userland build failed (is gcc-multilib installed? run make deps): ${why}`);
    }
  }, { artefacts: 'all' });
  return { dir: produced.path, cacheHit: produced.hit, probes: await listProbes(imagesDir) };
}
