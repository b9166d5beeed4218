// Source facts for claims: which lines of the applied tree match a pattern,
// read from a variant's worktree while it is checked out. Only the files
// under the predicate's path are read (git ls-files), never the whole tree.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from '../util/git.ts';
import { sourceKey, type SourcePredicate } from './spec.ts';

/** At most this many files under one path: a claim names a file or a small directory. */
export const MAX_SOURCE_FILES = 2000;
const MAX_HITS = 5;

export type SourceFact = { hits: string[] } | { error: string };

/** Pure: the matching lines of one file's text, as "file:line: text". */
export function matchingLines(file: string, text: string, re: RegExp, max = MAX_HITS): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < max; i++) {
    if (re.test(lines[i]!)) out.push(`${file}:${i + 1}: ${lines[i]!.trim().slice(0, 160)}`);
  }
  return out;
}

/** Read the facts the predicates ask of the tree checked out at `dir`. */
export async function readSourceFacts(dir: string, preds: readonly SourcePredicate[]): Promise<Record<string, SourceFact>> {
  const out: Record<string, SourceFact> = {};
  for (const p of preds) {
    const key = sourceKey(p);
    if (out[key]) continue;
    const files = (await git(dir, ['ls-files', '-z', '--', p.path])).split('\0').filter(Boolean);
    if (files.length === 0) {
      out[key] = { error: `no file of the tree is at ${p.path}` };
      continue;
    }
    if (files.length > MAX_SOURCE_FILES) {
      out[key] = { error: `${p.path} holds ${files.length} files, more than ${MAX_SOURCE_FILES}: name a file or a smaller directory` };
      continue;
    }
    const re = new RegExp(p.pattern);
    const hits: string[] = [];
    for (const f of files) {
      if (hits.length >= MAX_HITS) break;
      const text = await readFile(join(dir, f), 'utf8').catch(() => '');
      hits.push(...matchingLines(f, text, re, MAX_HITS - hits.length));
    }
    out[key] = { hits };
  }
  return out;
}
