// Farm jobs and logs: the LAVA job and device as LAVA reads them (YAML
// written as JSON), the result pattern on real result lines, and a recorded
// lava-run job log merged to the same verdicts as the local boot's console.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleFromLavaLog, isLavaLog, lavaDevice, lavaJob, RESULT_PATTERN, KTAP_END, KTAP_START } from '../harness/farm/lava.ts';
import { optionWords } from '../harness/commands/farm.ts';
import { bootSpec } from '../harness/run/rundir.ts';
import { parseConsole } from '../harness/console/parse-console.ts';

const fixtures = join(import.meta.dirname, 'fixtures', 'lava');
const repo = join(import.meta.dirname, '..');
const verdicts = (text: string) => parseConsole(text).probes.map((p) => [p.id, p.status, p.cases.map((c) => `${c.name}=${c.status}`).join(',')]);

t.test('boot.json: QEMU without -kernel/-initrd/-append, and the command line', async (t) => {
  t.same(bootSpec(['qemu-system-x86_64', '-accel', 'tcg', '-m', '512', '-kernel', '@K@', '-initrd', '@I@', '-append', 'console=ttyS0 panic=-1']), {
    qemuBinary: 'qemu-system-x86_64', qemuOptions: ['-accel', 'tcg', '-m', '512'], cmdline: 'console=ttyS0 panic=-1', kernel: 'bzImage', initrd: 'initramfs.cpio',
  });
  t.same(optionWords(['-accel', 'tcg', '-no-reboot', '-cpu', 'max,-smap']), ['-accel tcg', '-no-reboot', '-cpu max,-smap']);
});

t.test('the job: tmpfs deploy of the two files, qemu boot, a monitors test on the KTAP document', async (t) => {
  const job = JSON.parse(lavaJob({ name: 'n', kernelUrl: 'file:///j/bzImage', initrdUrl: 'file:///j/initramfs.cpio', qemuBinary: 'qemu-system-x86_64', qemuOptions: [], cmdline: "console=ttyS0 a='b c'", jobMinutes: 20, bootMinutes: 15 }).replace(/^#.*\n/, ''));
  t.equal(job.device_type, 'qemu');
  t.same(job.actions[0].deploy.images.kernel, { url: 'file:///j/bzImage', image_arg: "-kernel {kernel} -append 'console=ttyS0 a='\\''b c'\\'''" });
  t.notOk('compression' in job.actions[0].deploy.images.ramdisk, 'the cpio as it is');
  t.same(job.actions[1].boot, { method: 'qemu', media: 'tmpfs', timeout: { minutes: 15 } });
  const m = job.actions[2].test.monitors[0];
  t.same([m.start, m.end], [KTAP_START, KTAP_END]);
  // Python's (?P<name>) is JavaScript's (?<name>): the same pattern on lines from a real console.
  const re = new RegExp(RESULT_PATTERN.replace(/\(\?P</g, '(?<'), 'g');
  const text = '\nok 1 readv_writev:compat\nnot ok 2 x:y # exit status 1\nok 3 selftests:timers:rtcpie # SKIP no RTC\n    ok 1 nested case\n';
  t.same([...text.matchAll(re)].map((x) => [x.groups!.test_case_id, m.fixupdict[x.groups!.result!]]), [['readv_writev:compat', 'pass'], ['x:y', 'fail'], ['selftests:timers:rtcpie', 'skip']]);
  const device = JSON.parse(lavaDevice('qemu-system-x86_64', ['-m 512']).replace(/^#.*\n/, ''));
  t.same(device.actions.boot.methods.qemu.parameters.options, ['-m 512']);
  t.equal(device.constants.failure_retry, 1, 'no retry: a second boot is never a result');
});

t.test("a recorded lava-run job log gives the local boot's verdicts", async (t) => {
  const log = await readFile(join(fixtures, 'lava-job.log'), 'utf8');
  const local = await readFile(join(fixtures, 'console.log'), 'utf8');
  t.ok(isLavaLog(log));
  t.notOk(isLavaLog(local));
  const console = consoleFromLavaLog(log);
  t.match(console, /^KTAP version 1$/m);
  t.same(verdicts(console), verdicts(local));
  t.ok(verdicts(local).length >= 4, 'probes on two ABIs');
  t.same(consoleFromLavaLog('{"dt": "x", "lvl": "target", "msg": "\\e[0mKTAP \\x41"}\n{"lvl": "results", "msg": {"size": ! "1"}}\n'), '\u001b[0mKTAP A\n', "YAML's escapes; LAVA's tagged records skipped");
});

t.test('kseries merge: a directory holding a LAVA job log, and a console log, as one result', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-merge-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await execa('cp', [join(fixtures, 'lava-job.log'), join(dir, 'lava-job.log')]);
  const r = await execa('node', [join(repo, 'bin/kseries.js'), 'merge', dir, '--json', '-'], { reject: false });
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { status: string; probes: { id: string; status: string }[] };
  t.same(res.probes.map((p) => [p.id, p.status]), verdicts(await readFile(join(fixtures, 'console.log'), 'utf8')).map((v) => [v[0], v[1]]));
  const bad = await execa('node', [join(repo, 'bin/kseries.js'), 'merge', join(dir, 'nope')], { reject: false });
  t.equal(bad.exitCode, 2);
});
