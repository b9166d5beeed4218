import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { TCG } from '../harness/qemu/accel.ts';
import { bootKernel, qemuFailure } from '../harness/qemu/runner.ts';

// A stand-in for qemu-system-x86_64: a shell script whose behaviour the test chooses.
async function fakeQemu(body: string) {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-qemu-'));
  const bin = join(dir, 'fake-qemu');
  await writeFile(bin, `#!/bin/sh\n${body}\n`);
  await chmod(bin, 0o755);
  return { dir, arch: { ...X86_64, qemuBinary: bin } };
}

const boot = (arch: typeof X86_64, dir: string, silenceMs: number, overallMs: number) =>
  bootKernel({ arch, accel: TCG, kernelImage: '/k', initrd: '/i', consolePath: join(dir, 'console.log'), silenceMs, overallMs });

t.test('the console is teed to console.log and the exit code returned', async (t) => {
  const { dir, arch } = await fakeQemu('printf "KTAP version 1\\r\\n1..0\\r\\n"; echo "$@" >&2; exit 0');
  const r = await boot(arch, dir, 5000, 10000);
  t.equal(r.exitCode, 0);
  t.equal(r.hang, undefined);
  t.equal(await readFile(join(dir, 'console.log'), 'utf8'), 'KTAP version 1\r\n1..0\r\n');
  t.match(r.stderr, /-kernel \/k -initrd \/i -append console=ttyS0/);
});

t.test('a console silent past the limit is a hang and QEMU is killed', async (t) => {
  const { dir, arch } = await fakeQemu('echo booting; exec sleep 30');
  const t0 = Date.now();
  const r = await boot(arch, dir, 300, 20000);
  t.equal(r.hang, 'silence');
  t.ok(Date.now() - t0 < 10000, 'killed long before sleep 30 ended');
  t.equal(await readFile(join(dir, 'console.log'), 'utf8'), 'booting\nkseries-runner: killed QEMU (silence): no console output for 0.3 s\r\n', 'the kill is recorded in the log');
});

t.test('a chatty guest that never finishes hits the overall limit', async (t) => {
  const { dir, arch } = await fakeQemu('while :; do echo tick; sleep 0.05; done');
  const r = await boot(arch, dir, 1000, 500);
  t.equal(r.hang, 'overall');
  t.match(await readFile(join(dir, 'console.log'), 'utf8'), /tick\n(?:tick\n)*kseries-runner: killed QEMU \(overall\): overall boot timeout of 0.5 s expired\r\n$/);
});

t.test('a missing QEMU is an infrastructure error (exit 3) naming the fix', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-qemu-'));
  await t.rejects(boot({ ...X86_64, qemuBinary: join(dir, 'no-such-qemu') }, dir, 1000, 1000), {
    exitCode: 3,
    message: /cannot start .*no-such-qemu: not installed \(run make deps\)/,
  });
});

t.test("QEMU's own loader errors are infrastructure (exit 3), and its stderr is kept beside the console", async (t) => {
  const { dir, arch } = await fakeQemu(`echo "qemu: could not load kernel '/k': No such file or directory" >&2; exit 1`);
  await t.rejects(boot(arch, dir, 5000, 10000), {
    exitCode: 3,
    message: /^QEMU could not boot \/k: QEMU exited with status 1: qemu: could not load kernel '\/k': No such file or directory \(see .*qemu-stderr\.log\)$/,
  });
  t.match(await readFile(join(dir, 'qemu-stderr.log'), 'utf8'), /could not load kernel/);
});

t.test('QEMU failing without a message is infrastructure too; a clean exit is not', async (t) => {
  const silent = await fakeQemu('exit 1');
  await t.rejects(boot(silent.arch, silent.dir, 5000, 10000), { exitCode: 3, message: /exited with status 1 without a message/ });
  const killed = await fakeQemu('echo "Linux version 6.1"; kill -9 $$');
  await t.rejects(boot(killed.arch, killed.dir, 5000, 10000), { exitCode: 3, message: /QEMU was killed by SIGKILL/ });
  // A guest that panics with panic=-1 under -no-reboot: QEMU exits 0, the console stage judges it.
  const panicked = await fakeQemu('echo "Kernel panic - not syncing: Attempted to kill init!"; echo "qemu-system-x86_64: warning: host doesn\'t support requested feature" >&2; exit 0');
  const r = await boot(panicked.arch, panicked.dir, 5000, 10000);
  t.equal(r.exitCode, 0);
  t.match(await readFile(join(panicked.dir, 'qemu-stderr.log'), 'utf8'), /warning/);
});

t.test('qemuFailure: the reason is the loader line, not the first warning', async (t) => {
  t.equal(qemuFailure({ exitCode: 0, stderr: 'qemu: could not load kernel' }), null, 'exit 0: the guest ran');
  t.equal(qemuFailure({ exitCode: null, hang: 'silence', stderr: '', signal: 'SIGKILL' }), null, 'our own kill is a hang');
  t.equal(
    qemuFailure({ exitCode: 1, stderr: 'qemu-system-x86_64: warning: TCG doesn\'t support requested feature\nqemu: linux kernel too old to load a ram disk\n' }),
    'QEMU exited with status 1: qemu: linux kernel too old to load a ram disk',
  );
  t.equal(qemuFailure({ exitCode: 1, stderr: 'qemu: error reading initrd /i: No such file or directory\n' }), 'QEMU exited with status 1: qemu: error reading initrd /i: No such file or directory');
});

// The real thing, cheap: QEMU refuses an empty or junk kernel before any guest code runs.
const realQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
t.test('real qemu-system-x86_64 given an empty or truncated bzImage: INFRA (exit 3), not a crash', { skip: realQemu ? false : 'qemu-system-x86_64 not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-qemu-real-'));
  const initrd = join(dir, 'initramfs.cpio');
  await writeFile(initrd, 'x');
  for (const [name, bytes] of [['empty', Buffer.alloc(0)], ['truncated', Buffer.from('MZ\0\0 a bzImage cut short\n')]] as const) {
    const kernelImage = join(dir, `bzImage-${name}`);
    await writeFile(kernelImage, bytes);
    const consolePath = join(dir, `console-${name}.log`);
    const stderrPath = join(dir, `qemu-stderr-${name}.log`);
    await t.rejects(bootKernel({ arch: X86_64, accel: TCG, kernelImage, initrd, consolePath, stderrPath, silenceMs: 20000, overallMs: 30000 }), { exitCode: 3, message: /QEMU could not boot .*QEMU exited with status 1: qemu: / }, name);
    t.match(await readFile(stderrPath, 'utf8'), /qemu: (could not load kernel|linux kernel too old)/, `${name}: QEMU's words are kept`);
    t.equal(await readFile(consolePath, 'utf8'), '', `${name}: no guest output at all`);
  }
});
