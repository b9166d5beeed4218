// The one parser of `--range A..B` (kseries apply/run/matrix and kseries bisect).
import { usageError } from './errors.ts';

export interface RevisionRange {
  from: string;
  to: string;
}

/**
 * "A..B" → its two revisions. Surrounding white space is ignored; then the
 * spec must be two non-empty revisions joined by exactly one "..", with no
 * white space and no "..." (a symmetric difference is not a range of
 * commits). Revisions may hold single dots: v6.1..v6.2. `names` name the
 * two ends in the error ("GOOD..BAD" for bisect).
 */
export function parseRevisionRange(spec: string, names: readonly [string, string] = ['A', 'B']): RevisionRange {
  const s = spec.trim();
  const parts = s.split('..');
  const [from, to] = parts;
  if (parts.length !== 2 || !from || !to || to.startsWith('.') || /\s/.test(s)) {
    throw usageError(`--range must be ${names[0]}..${names[1]} (two revisions joined by ".."), not '${spec}'`);
  }
  return { from, to };
}
