import t from 'tap';
import { buildErrorLines, isObjectLine } from '../harness/kernel/build-log.ts';
import { buildKey } from '../harness/kernel/build.ts';
import { kernelVersionFromMakefile } from '../harness/kernel/tree.ts';

const inputs = { treeIdentity: 'tarball:abc', patchesId: '', arch: 'x86_64', requestedConfig: 'CONFIG_A=y\n', compiler: 'gcc (Debian 12.2.0-14) 12.2.0' };

t.test('the build key changes with every input and only with them', async (t) => {
  const k = buildKey(inputs);
  t.equal(buildKey({ ...inputs }), k, 'stable');
  t.match(k, /^[0-9a-f]{24}$/);
  for (const field of Object.keys(inputs) as (keyof typeof inputs)[]) {
    t.not(buildKey({ ...inputs, [field]: inputs[field] + 'x' }), k, `${field} is part of the key`);
  }
});

t.test('object lines are counted for progress, other lines are not', async (t) => {
  t.ok(isObjectLine('  CC      kernel/fork.o'));
  t.ok(isObjectLine('  LD      vmlinux'));
  t.ok(isObjectLine('  AS      arch/x86/entry/entry_64.o'));
  t.notOk(isObjectLine('make[1]: Entering directory'));
  t.notOk(isObjectLine('kernel/fork.c:12:1: error: expected'));
});

t.test('the failure digest keeps the error lines, last ones last', async (t) => {
  const log = [
    '  CC      fs/io_uring.o',
    'fs/io_uring.c:99:5: error: implicit declaration of function ‘foo’',
    'fs/io_uring.c:99:5: warning: unused',
    'make[2]: *** [scripts/Makefile.build:250: fs/io_uring.o] Error 1',
    'make: *** [Makefile:1831: fs] Error 2',
  ].join('\n');
  const lines = buildErrorLines(log);
  t.equal(lines.length, 3);
  t.match(lines[0], /implicit declaration/);
  t.match(lines.at(-1), /Error 2/);
  t.same(buildErrorLines('all fine\n  LD vmlinux\n'), []);
});

t.test('kernel version from the top Makefile', async (t) => {
  t.equal(kernelVersionFromMakefile('VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 158\nEXTRAVERSION =\nNAME = x\n'), '6.1.158');
  t.equal(kernelVersionFromMakefile('VERSION = 5\nPATCHLEVEL = 9\nSUBLEVEL = 1\nEXTRAVERSION = -rc2\n'), '5.9.1-rc2');
});
