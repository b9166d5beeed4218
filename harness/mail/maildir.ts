// A maildir: one message per file in cur/ and new/ (tmp/ holds deliveries in progress).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError } from '../util/errors.ts';
import type { MailMessage } from './mail-types.ts';
import { decodeMaybeGzip, parseMessage } from './mbox.ts';

export async function readMaildir(dir: string): Promise<MailMessage[]> {
  const subdirs = [];
  for (const sub of ['cur', 'new']) {
    const p = join(dir, sub);
    if (await stat(p).then((s) => s.isDirectory(), () => false)) subdirs.push(p);
  }
  if (subdirs.length === 0) throw usageError(`--maildir ${dir} is not a maildir (no cur/ or new/ directory)`);
  const messages: MailMessage[] = [];
  for (const sub of subdirs) {
    for (const name of (await readdir(sub)).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(sub, name);
      if (!(await stat(path)).isFile()) continue;
      // Some tools store a From_ line at the top of each file; git mailinfo does not want it.
      const bytes = decodeMaybeGzip(await readFile(path), path);
      const m = parseMessage(bytes.subarray(bytes.subarray(0, 5).toString('latin1') === 'From ' ? bytes.indexOf(10) + 1 : 0));
      if (m) messages.push(m);
    }
  }
  return messages;
}
