import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withParents, writeCpio } from '../harness/image/cpio.ts';

t.test('newc header layout and trailer', async (t) => {
  const buf = writeCpio([{ type: 'file', name: 'a', data: Buffer.from('xyz') }]);
  t.equal(buf.subarray(0, 6).toString(), '070701');
  t.equal(buf.length % 4, 0, 'padded to 4 bytes');
  t.match(buf.toString('latin1'), /TRAILER!!!\0/);
  // filesize field is the 7th 8-hex field after the magic
  t.equal(parseInt(buf.subarray(6 + 6 * 8, 6 + 7 * 8).toString(), 16), 3);
});

t.test('withParents adds missing directories once, parents first', async (t) => {
  const out = withParents([
    { type: 'file', name: '/kseries/bin/i386/p', data: Buffer.alloc(0) },
    { type: 'file', name: 'kseries/bin/x86_64/p', data: Buffer.alloc(0) },
    { type: 'dir', name: 'kseries' },
  ]);
  t.same(out.map((e) => `${e.type}:${e.name}`), [
    'dir:kseries', 'dir:kseries/bin', 'dir:kseries/bin/i386', 'file:kseries/bin/i386/p',
    'dir:kseries/bin/x86_64', 'file:kseries/bin/x86_64/p',
  ]);
});

t.test('GNU cpio reads back files, modes and the console node', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-cpio-'));
  const archive = join(dir, 'a.cpio');
  const data = Buffer.from([0, 1, 2, 3, 4, 255]);
  await writeFile(archive, writeCpio(withParents([
    { type: 'char', name: 'dev/console', major: 5, minor: 1 },
    { type: 'file', name: 'init', data, mode: 0o755 },
    { type: 'file', name: 'kseries/plan', data: Buffer.from('plan\n') },
  ])));
  const list = await execa('cpio', ['-itv', '-F', archive]);
  t.match(list.stdout, /^crw-------.*5,\s+1.*dev\/console$/m);
  t.match(list.stdout, /^-rwxr-xr-x.*init$/m);
  const out = join(dir, 'x');
  await execa('cpio', ['-idm', '--quiet', '-F', archive, '-D', out, '--no-absolute-filenames', '--nonmatching', 'dev/console']);
  t.same(await readFile(join(out, 'init')), data);
  t.equal((await stat(join(out, 'init'))).mode & 0o777, 0o755);
  t.equal(await readFile(join(out, 'kseries/plan'), 'utf8'), 'plan\n');
});
