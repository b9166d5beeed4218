import t from 'tap';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { TCG } from '../harness/qemu/accel.ts';
import { bootKernel } from '../harness/qemu/runner.ts';

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
