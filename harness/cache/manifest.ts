// The manifest of a cache entry: size and sha256 of its artefacts, written
// before the entry is published and checked before it is used, so a
// truncated, emptied or deleted artefact is never trusted.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { infraError } from '../util/errors.ts';
import { sha256File } from '../util/hash.ts';

export const MANIFEST = 'manifest.json';

export interface Manifest {
  schema: 1;
  files: Record<string, { size: number; sha256: string }>;
}

/** Artefacts to record: paths relative to the entry, or 'all' for every file in it. */
export type Artefacts = readonly string[] | 'all';

async function allFiles(dir: string, top = dir): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...(await allFiles(p, top)));
    else if (ent.isFile() && !(dir === top && ent.name === MANIFEST)) out.push(relative(top, p));
  }
  return out.sort();
}

/** Record the artefacts of a filled entry. A named artefact that is missing or empty is an infrastructure error. */
export async function writeManifest(dir: string, artefacts: Artefacts): Promise<Manifest> {
  const names = artefacts === 'all' ? await allFiles(dir) : artefacts;
  const files: Manifest['files'] = {};
  for (const name of names) {
    const size = await stat(join(dir, name)).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size < 0) throw infraError(`cache entry was filled without ${name}`);
    if (size === 0 && artefacts !== 'all') throw infraError(`cache entry was filled with an empty ${name}`);
    files[name] = { size, sha256: await sha256File(join(dir, name)) };
  }
  const m: Manifest = { schema: 1, files };
  await writeFile(join(dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
  return m;
}

/** Why the entry cannot be trusted, or null when every recorded artefact is as it was published. */
export async function checkManifest(dir: string): Promise<string | null> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it has no manifest (made by an older kseries, or damaged)' : 'its manifest is unreadable';
  }
  if (m?.schema !== 1 || typeof m.files !== 'object' || m.files === null) return 'its manifest is unreadable';
  for (const [name, want] of Object.entries(m.files)) {
    const size = await stat(join(dir, name)).then((s) => s.size, () => -1);
    if (size < 0) return `${name} is missing`;
    if (size !== want.size) return `${name} is ${size} bytes, the manifest says ${want.size}`;
    if ((await sha256File(join(dir, name))) !== want.sha256) return `${name} does not match its sha256 in the manifest`;
  }
  return null;
}
