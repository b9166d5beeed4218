// Payload checks at image-planning time: real binaries compiled here by gcc
// (static and dynamic, 64- and 32-bit) and scripts, checked against the
// initramfs being planned, before any kernel is built.
import t, { type Test } from 'tap';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { I386, X86_64 } from '../harness/model/arch.ts';
import { parseLdd } from '../harness/image/host-libs.ts';
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

const PLAN0 = { arch: X86_64, probes: [], abis: [], probeTimeoutSec: 1, execTimeoutSec: 1 };
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
    t.equal(msg, '(no error)', 'static or dynamic, it plans fine');
    const layout = await plan([`${bin}:/bin/repro`], ['repro']);
    const names = new Set(layout.entries.map((e) => `/${e.name}`));
    if (flags.includes('-static')) {
      t.same(layout.notes, [], 'a static binary needs nothing more');
    } else {
      // What the host's ldd lists (an oracle: the same tool, run here) is what goes in, at those paths.
      const ldd = parseLdd((await execa('ldd', [bin])).stdout);
      t.ok(ldd.paths.length >= 2, 'ldd lists an interpreter and libc');
      for (const p of ldd.paths) t.ok(names.has(p), `${p} is in the guest`);
      t.ok(names.has(oracle!), `the interpreter ${oracle} is in the guest`);
      t.match(layout.notes.join('\n'), `for --add ${bin}`, 'the log says what was added for which payload');
      // A user's own file at the interpreter's path is used as given, and checked as before.
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

t.test('scripts: the #! interpreter is put in the guest, or named when it cannot be', async (t) => {
  const script = join(dir, 'run.sh');
  await writeFile(script, '#!/bin/sh -e\necho hi\n');
  await chmod(script, 0o755);
  t.same(await readExecFormat(script), { kind: 'script', interpreter: '/bin/sh' });
  // /bin/sh is a busybox applet: the shell goes in, and /bin/sh points at it.
  const fakeBusybox = { binary: process.execPath, applets: ['/bin/sh', '/usr/bin/env', '/usr/bin/timeout'] };
  const withShell = await planInitramfs({ ...PLAN0, execs: ['run.sh'], adds: [parseAdd(script)], runtime: { shellSource: async () => fakeBusybox } });
  t.same(withShell.entries.find((e) => e.name === 'bin/sh'), { type: 'symlink', name: 'bin/sh', target: '/bin/busybox' });
  t.ok(withShell.entries.some((e) => e.name === 'bin/busybox' && e.type === 'file'), 'busybox itself');
  t.notOk(withShell.entries.some((e) => e.name === 'usr/bin/timeout'), "busybox's timeout is left out (no --foreground for kselftest's runner)");
  t.match(withShell.notes.join('\n'), `guest shell: ${process.execPath} (3 applets) for --add ${script} (#!/bin/sh)`);
  // No busybox to be had: the host's own /bin/sh (a program) goes in instead, with its libraries.
  const none = { shellSource: async () => Promise.reject(new Error('no busybox')) };
  const hostSh = await planInitramfs({ ...PLAN0, execs: ['run.sh'], adds: [parseAdd(script)], runtime: none });
  t.match(hostSh.notes.join('\n'), `guest: + /bin/sh (the host's) for --add ${script}`);
  // An interpreter neither the shell nor the host has is named.
  const odd = join(dir, 'odd.sh');
  await writeFile(odd, '#!/no/such/interp\n');
  await chmod(odd, 0o755);
  t.equal(await usageMessage(planInitramfs({ ...PLAN0, execs: ['odd.sh'], adds: [parseAdd(odd)], runtime: none })), `--add ${odd}: script interpreter /no/such/interp is not in the guest`);
  // An i386 kernel cannot run the x86_64 busybox: said before any build.
  t.equal(
    await usageMessage(planInitramfs({ ...PLAN0, arch: I386, execs: ['run.sh'], adds: [parseAdd(script)], runtime: { shellSource: async () => fakeBusybox } })),
    `--add ${script} (#!/bin/sh): the guest shell is busybox-static for x86_64, which a i386 kernel cannot run`,
  );
  // A user's own /bin/sh wins; a dynamic one gets its libraries.
  const dynSh = await compile('dyn-sh', []);
  if (typeof dynSh !== 'string') return skipped(t, dynSh.skip);
  const own = await plan([script, `${dynSh}:/bin/sh`], ['run.sh']);
  t.notOk(own.entries.some((e) => e.name === 'bin/busybox'), 'no busybox when /bin/sh is given');
  t.ok(own.entries.some((e) => e.name.startsWith('lib64/ld-linux')), "the given /bin/sh's interpreter goes in");
});

t.test("--exec 'sh -c ...' brings the shell; --shell asks for it", async (t) => {
  const fakeBusybox = { binary: process.execPath, applets: ['/bin/sh', '/bin/ls'] };
  const l = await planInitramfs({ ...PLAN0, execs: ['sh -c "ls /dev"'], adds: [], runtime: { shellSource: async () => fakeBusybox } });
  t.same(l.plan.map((p) => p.argv), [['/bin/sh', '-c', 'ls /dev']]);
  t.ok(l.entries.some((e) => e.name === 'bin/ls' && e.type === 'symlink'));
  const asked = await planInitramfs({ ...PLAN0, execs: [], adds: [], shell: true, runtime: { shellSource: async () => fakeBusybox } });
  t.match(asked.notes, [/for --shell$/]);
  const plain = await planInitramfs({ ...PLAN0, execs: [], adds: [], runtime: { shellSource: async () => fakeBusybox } });
  t.notOk(plain.entries.some((e) => e.name === 'bin/busybox'), 'nothing needs it: no shell');
});

t.test('libraries the host lacks, and x32 programs, are named before any build', async (t) => {
  const bin = await compile('dyn-missing', ['-m64']);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const missing = { libraries: async () => ({ paths: [], missing: ['libfoo.so.1'], isStatic: false }) };
  t.equal(
    await usageMessage(planInitramfs({ ...PLAN0, execs: ['repro'], adds: [parseAdd(`${bin}:/bin/repro`)], runtime: missing })),
    `--add ${bin}: needs libfoo.so.1, which the host's loader does not find (ldd: not found)`,
  );
  const x32 = await compile('dyn-x32', ['-mx32']);
  if (typeof x32 !== 'string') return skipped(t, x32.skip);
  t.equal(
    await usageMessage(plan([`${x32}:/bin/repro`], ['repro'])),
    `--add ${x32}: an x32 program linked dynamically; the host cannot list its libraries (it runs no x32), so link it -static`,
  );
});

t.test('parseLdd: libraries, the interpreter, the vDSO, missing ones, static files', async (t) => {
  const text = [
    '\tlinux-gate.so.1 (0xf7f81000)',
    '\tlibc.so.6 => /lib32/libc.so.6 (0xf7d46000)',
    '\tlibfoo.so.1 => not found',
    '\t/lib/ld-linux.so.2 (0xf7f83000)',
  ].join('\n');
  t.same(parseLdd(text), { paths: ['/lib32/libc.so.6', '/lib/ld-linux.so.2'], missing: ['libfoo.so.1'], isStatic: false });
  t.same(parseLdd('\tnot a dynamic executable\n'), { paths: [], missing: [], isStatic: true });
  t.same(parseLdd('\tstatically linked\n'), { paths: [], missing: [], isStatic: true });
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

t.test('a dynamic executable inside an added directory gets its libraries, named by its guest path', async (t) => {
  const bin = await compile('dyn-in-tree', []);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const tree = join(dir, 'selftests');
  await mkdir(tree, { recursive: true });
  await execa('cp', [bin, join(tree, 'helper')]);
  await writeFile(join(tree, 'README'), 'not executable, not checked\n');
  const l = await plan([`${tree}:/opt/st`], []);
  t.match(l.notes.join('\n'), `for --add ${tree} (/opt/st/helper)`);
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

t.test('kseries run: an --add the guest cannot start is exit 2 with one error line, before any run dir or cache entry', async (t) => {
  const bin = await compile('cli-dyn', ['-mx32']);
  if (typeof bin !== 'string') return skipped(t, bin.skip);
  const cache = await mkdtemp(join(tmpdir(), 'kseries-payloads-cache-'));
  t.teardown(() => rm(cache, { recursive: true, force: true }));
  const out = join(dir, 'run-out');
  const cli = join(import.meta.dirname, '..', 'bin', 'kseries.js');
  const r = await execa('node', [cli, 'run', '--cache', cache, '--out', out, '--add', bin, '--exec', 'cli-dyn'], { reject: false });
  t.equal(r.exitCode, ExitCode.USAGE);
  t.equal(r.stderr.trim(), `kseries: error: --add ${bin}: an x32 program linked dynamically; the host cannot list its libraries (it runs no x32), so link it -static`);
  t.same(await readdir(cache), [], 'nothing cached, nothing built');
  await t.rejects(readdir(out), 'no run directory');
});

t.test('every dynamic program gets its own libraries, not only the first with that interpreter', async (t) => {
  const plain = await compile('dyn-plain', ['-m64']);
  if (typeof plain !== 'string') return skipped(t, plain.skip);
  await writeFile(join(dir, 'mathy.c'), '#include <math.h>\n#include <stdio.h>\nint main(int c, char **v) { printf("%f\\n", cos((double)c)); return v == 0; }\n');
  const mathy = join(dir, 'mathy');
  await execa('gcc', ['-m64', join(dir, 'mathy.c'), '-o', mathy, '-lm']);
  const libm = parseLdd((await execa('ldd', [mathy])).stdout).paths.find((p) => /\/libm\.so/.test(p));
  t.ok(libm, 'ldd lists libm for the second program');
  const l = await plan([`${plain}:/bin/a`, `${mathy}:/bin/b`], ['a', 'b']);
  t.ok(l.entries.some((e) => `/${e.name}` === libm), `${libm} is in the guest too`);
});
