import t from 'tap';
import { execa } from 'execa';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { TCG } from '../harness/qemu/accel.ts';
import { qemuArgv } from '../harness/qemu/runner.ts';
import { INITRD_PLACEHOLDER, KERNEL_PLACEHOLDER, reproducerScript, writeReproducer } from '../harness/run/rundir.ts';

const spec = {
  srcDir: '/src/linux with space',
  makeArch: 'x86_64',
  buildArgs: ['-j2', 'CC=ccache gcc', 'bzImage'],
  buildEnv: { CCACHE_DIR: '/c/ccache' },
  image: 'arch/x86/boot/bzImage',
  qemuArgv: qemuArgv({ arch: X86_64, accel: TCG, kernelImage: KERNEL_PLACEHOLDER, initrd: INITRD_PLACEHOLDER }),
};

t.test('qemu command line: serial console, no reboot, kernel and initrd', async (t) => {
  const argv = qemuArgv({ arch: X86_64, accel: TCG, kernelImage: '/k', initrd: '/i', extraCmdline: 'quiet' });
  t.equal(argv[0], 'qemu-system-x86_64');
  t.ok(argv.includes('-no-reboot'));
  t.equal(argv[argv.indexOf('-kernel') + 1], '/k');
  t.equal(argv[argv.indexOf('-initrd') + 1], '/i');
  t.match(argv[argv.indexOf('-append') + 1], /^console=ttyS0 .*panic=-1.* quiet$/);
});

t.test('reproducer holds the exact make and qemu lines', async (t) => {
  const s = reproducerScript(spec);
  t.match(s, /^#!\/bin\/sh/);
  t.match(s, /^SRC='\/src\/linux with space'$/m);
  t.match(s, /make -C "\$SRC" O="\$B" ARCH=x86_64 olddefconfig/);
  t.match(s, /CCACHE_DIR=\/c\/ccache make -C "\$SRC" O="\$B" ARCH=x86_64 -j2 'CC=ccache gcc' bzImage/);
  t.match(s, /exec qemu-system-x86_64 -accel tcg .* -kernel "\$KERNEL" -initrd "\$RUN\/initramfs.cpio" -append 'console=ttyS0 panic=-1 rdinit=\/init syscall\.x32=y'/);
});

t.test('reproducer boot mode runs the recorded qemu line (checked with a fake qemu)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-repro-'));
  const bin = join(dir, 'bin');
  await execa('mkdir', ['-p', bin]);
  await writeFile(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$RUN_ARGS"\n');
  await chmod(join(bin, 'qemu-system-x86_64'), 0o755);
  const script = await writeReproducer(dir, spec);
  const args = join(dir, 'args');
  await execa(script, ['boot'], { env: { PATH: `${bin}:${process.env.PATH}`, RUN_ARGS: args } });
  const seen = (await readFile(args, 'utf8')).trim().split('\n');
  t.equal(seen[seen.indexOf('-kernel') + 1], join(dir, 'bzImage'));
  t.equal(seen[seen.indexOf('-initrd') + 1], join(dir, 'initramfs.cpio'));
});
