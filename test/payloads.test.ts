// Payload checks at image-planning time: real binaries compiled here by gcc
// (static and dynamic, 64- and 32-bit) and scripts, checked against the
// initramfs being planned, before any kernel is built.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { execFormat, readExecFormat } from '../harness/image/exec-format.ts';
import { checkPayloads, type GuestFile } from '../harness/image/payloads.ts';
import { buildInitramfs, parseAdd, planInitramfs } from '../harness/image/initramfs.ts';
import { KseriesError } from '../harness/util/errors.ts';
import { ExitCode } from '../harness/model/results.ts';

const dir = await mkdtemp(join(tmpdir(), 'kseries-payloads-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await writeFile(join(dir, 'hello.c'), 'int main(void) { return 0; }\n');

/** Compile hello.c with `flags`; null (with the compiler's complaint) when this host cannot. */
async function compile(name: string, flags: string[]): Promise<string | { skip: string }> {
  const out = join(dir, name);
  const r = await execa('gcc', [...flags, join(dir, 'hello.c'), '-o', out], { reject: false });
  return r.exitCode === 0 ? out : { skip: `gcc ${flags.join(' ')} failed (gcc-multilib missing?): ${r.stderr.split('\n')[0]}` };
}

/** The interpreter readelf reports: an oracle independent of our reader. */
async function readelfInterp(path: string): Promise<string | undefined> {
  const r = await execa('readelf', ['-l', path], { reject: false });
  if (r.exitCode !== 0) return undefined;
  return /Requesting program interpreter: ([^\]]+)\]/.exec(r.stdout)?.[1];
}

/** Without gcc -m32 and friends the test says so instead of passing. */
function skipped(t: Test, reason: string): void {
  t.comment(`SKIP: ${reason}`);
  t.skip(reason, () => undefined);
}

const plan = (adds: string[], execs: string[]) =>
  planInitramfs({ arch: X86_64, probes: [], abis: [], probeTimeoutSec: 1, execs, execTimeoutSec: 1, adds: adds.map(parseAdd) });

async function usageMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KseriesError && e.exitCode === ExitCode.USAGE) return e.message;
    throw e;
  }
  return '(no error)';
}

const BINARIES: [string, string[], number][] = [
  ['dyn64', ['-m64'], 64],
  ['static64', ['-m64', '-static'], 64],
  ['dyn32', ['-m32'], 32],
  ['static32', ['-m32', '-static'], 32],
];

for (const [name, flags, bits] of BINARIES) {
  t.test(`gcc ${flags.join(' ')}: interpreter as readelf sees it, and the planning verdict`, async (t) => {
    const bin = await compile(name, flags);
    if (typeof bin !== 'string') return skipped(t, bin.skip);
    const fmt = await readExecFormat(bin);
    const oracle = await readelfInterp(bin);
    t.equal(fmt.kind, 'elf');
    if (fmt.kind !== 'elf') return;
    t.equal(fmt.bits, bits);
    t.equal(fmt.machine, bits === 64 ? 62 : 3, 'EM_X86_64 / EM_386');
    t.equal(fmt.interpreter, oracle, `interpreter matches readelf (${oracle ?? 'none'})`);
    const msg = await usageMessage(plan([`${bin}:/bin/repro`], ['repro']));
    if (flags.includes('-static')) {
      t.equal(msg, '(no error)', 'a static binary plans fine');
    } else {
      t.equal(msg, `--add ${bin}: dynamically linked (interpreter ${oracle}), which the guest does not have; link it -static`);
      // The check asks whether the path is in the guest, not whether the binary is static.
      // Give the guest the host's own loader at that path (a static ELF).
      t.equal(await usageMessage(plan([`${bin}:/bin/repro`, `${oracle}:${oracle}`], ['repro'])), '(no error)', 'planned once its interpreter is in the guest');
      const fake = join(dir, `fake-ld-${name}`);
      await writeFile(fake, '\x7fELF');
      await chmod(fake, 0o755);
      t.equal(
        await usageMessage(plan([`${bin}:/bin/repro`, `${fake}:${oracle}`], ['repro'])),
        `--add ${bin} via ${oracle}: ${oracle} is neither an ELF binary nor a #! script`,
        'a broken interpreter is named too',
      );
    }
  });
}

t.test('an ELF interpreter past the first bytes read is asked for, not guessed', async (t) => {
  const bin = await compile('dyn64b', ['-m64']);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const whole = await readFile(bin);
  const head = execFormat(whole.subarray(0, 64), whole.length);
  t.equal(head.kind, 'short', 'header alone: needs the program headers');
  t.same(execFormat(whole), { kind: 'elf', bits: 64, machine: 62, interpreter: await readelfInterp(bin) });
  t.same(execFormat(Buffer.from('\x7fELF\x02\x01')), { kind: 'other' }, 'a truncated file is not an executable');
});

t.test('scripts: the #! interpreter must be in the guest', async (t) => {
  const script = join(dir, 'run.sh');
  await writeFile(script, '#!/bin/sh -e\necho hi\n');
  await chmod(script, 0o755);
  t.same(await readExecFormat(script), { kind: 'script', interpreter: '/bin/sh' });
  t.equal(await usageMessage(plan([script], ['run.sh'])), `--add ${script}: script interpreter /bin/sh is not in the guest`);
  // An interpreter that is itself a static binary in the guest is fine.
  const sh = await compile('static-sh', ['-static']);
  if (typeof sh !== 'string') return skipped(t, sh.skip);
  t.equal(await usageMessage(plan([script, `${sh}:/bin/sh`], ['run.sh'])), '(no error)');
  // ...and one that is dynamic is named, with the script that led to it.
  const dynSh = await compile('dyn-sh', []);
  if (typeof dynSh !== 'string') return skipped(t, dynSh.skip);
  t.match(await usageMessage(plan([script, `${dynSh}:/bin/sh`], ['run.sh'])), new RegExp(`^--add ${script} via /bin/sh: dynamically linked \\(interpreter /lib64/`));
});

t.test('--exec programs: absent, not executable, not a program', async (t) => {
  const data = join(dir, 'notes.txt');
  await writeFile(data, 'plain text\n');
  t.equal(await usageMessage(plan([], ['missing -v'])), `--exec 'missing -v': /bin/missing is not in the guest (put it there with --add)`);
  t.equal(await usageMessage(plan([data], ['notes.txt'])), `--exec 'notes.txt': /bin/notes.txt is not executable (mode 0644)`);
  await chmod(data, 0o755);
  t.equal(await usageMessage(plan([data], ['notes.txt'])), `--exec 'notes.txt': /bin/notes.txt is neither an ELF binary nor a #! script`);
  t.equal(await usageMessage(plan([], ['/kseries/bin/x86_64/nope'])), `--exec '/kseries/bin/x86_64/nope': /kseries/bin/x86_64/nope is not in the guest (put it there with --add)`);
});

t.test('a dynamic executable inside an added directory is named by its guest path', async (t) => {
  const bin = await compile('dyn-in-tree', []);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const tree = join(dir, 'selftests');
  await mkdir(tree, { recursive: true });
  await execa('cp', [bin, join(tree, 'helper')]);
  await writeFile(join(tree, 'README'), 'not executable, not checked\n');
  t.match(await usageMessage(plan([`${tree}:/opt/st`], [])), new RegExp(`^--add ${tree} \\(/opt/st/helper\\): dynamically linked`));
});

t.test('checkPayloads is pure: kseries\' own files (no format) are trusted, missing ones are not', async (t) => {
  const files = new Map<string, GuestFile>([
    ['/init', { path: '/init', mode: 0o755 }],
    ['/bin/x', { path: '/bin/x', mode: 0o755, origin: '--add x', format: { kind: 'script', interpreter: '/init' } }],
  ]);
  t.same(checkPayloads(files, [{ program: '/init', origin: '--exec init' }, { program: '/bin/x', origin: '--exec x' }]), []);
  t.same(checkPayloads(files, [{ program: '/bin/y', origin: '--exec y' }]), ['--exec y: /bin/y is not in the guest (put it there with --add)']);
});

t.test('buildInitramfs still packs the planned files', async (t) => {
  const sh = await compile('static-packed', ['-static']);
  if (typeof sh !== 'string') return skipped(t, sh.skip);
  const guestDir = join(dir, 'guest');
  await mkdir(join(guestDir, 'x86_64'), { recursive: true });
  await writeFile(join(guestDir, 'x86_64', 'init'), 'INIT');
  const fs = await buildInitramfs({ arch: X86_64, guestDir, probes: [], abis: [], probeTimeoutSec: 1, execs: ['packed a'], execTimeoutSec: 7, adds: [parseAdd(`${sh}:/bin/packed`)] });
  t.same(fs.plan, [{ id: 'exec:packed', timeoutSec: 7, uid: 0, argv: ['/bin/packed', 'a'] }]);
  const text = fs.cpio.toString('latin1');
  t.ok(text.includes('bin/packed\0') && text.includes('kseries/plan\0') && text.includes('INIT'), 'cpio holds the add, the plan and the init');
});

t.test('kseries run: a dynamic --add is exit 2 with one error line, before any run dir or cache entry', async (t) => {
  const bin = await compile('cli-dyn', ['-m64']);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const cache = await mkdtemp(join(tmpdir(), 'kseries-payloads-cache-'));
  t.teardown(() => rm(cache, { recursive: true, force: true }));
  const out = join(dir, 'run-out');
  const cli = join(import.meta.dirname, '..', 'bin', 'kseries.js');
  const r = await execa('node', [cli, 'run', '--cache', cache, '--out', out, '--add', bin, '--exec', 'cli-dyn'], { reject: false });
  t.equal(r.exitCode, ExitCode.USAGE);
  t.equal(r.stderr.trim(), `kseries: error: --add ${bin}: dynamically linked (interpreter ${await readelfInterp(bin)}), which the guest does not have; link it -static`);
  t.same(await readdir(cache), [], 'nothing cached, nothing built');
  await t.rejects(readdir(out), 'no run directory');
});
