// Source facts read from a checked-out tree (harness/claims/source-facts.ts).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchingLines, MAX_SOURCE_FILES, readSourceFacts } from '../harness/claims/source-facts.ts';

t.test('matchingLines names the file and line of each match, at most a few', async (t) => {
  t.same(matchingLines('a.h', 'x\n  int import_iovec(int);\ny\nimport_iovec2\n', /import_iovec/), ['a.h:2: int import_iovec(int);', 'a.h:4: import_iovec2']);
  t.same(matchingLines('a.h', 'a\na\na\n', /a/, 2).length, 2);
});

t.test('readSourceFacts reads only the files under the path, from git', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kseries-source-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'include/linux'), { recursive: true });
  writeFileSync(join(dir, 'include/linux/uio.h'), 'ssize_t __import_iovec(int type, bool compat);\n');
  writeFileSync(join(dir, 'include/linux/untracked.h'), 'bool compat;\n');
  writeFileSync(join(dir, 'README'), 'bool compat\n');
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['add', 'include/linux/uio.h', 'README'], { cwd: dir });
  const pred = (path: string, pattern: string) => ({ source: { variant: 'v' }, path, pattern, present: true });
  const facts = await readSourceFacts(dir, [pred('include/linux', 'bool compat'), pred('include/nope', 'x'), pred('include/linux', 'PF_FORCE_COMPAT')]);
  t.same(facts['include/linux\0bool compat'], { hits: ['include/linux/uio.h:1: ssize_t __import_iovec(int type, bool compat);'] }, 'the untracked file and README are not read');
  t.same(facts['include/nope\0x'], { error: 'no file of the tree is at include/nope' });
  t.same(facts['include/linux\0PF_FORCE_COMPAT'], { hits: [] });
  t.ok(MAX_SOURCE_FILES >= 1000);
});
