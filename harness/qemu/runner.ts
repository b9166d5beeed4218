// Boot stage: start QEMU, tee the serial console to console.log as it
// arrives, and enforce a silence limit and an overall limit. It does not
// parse the console; the console stage does. When QEMU itself fails (cannot
// load the kernel or initrd, cannot start) that is infrastructure, not a
// kernel crash: its stderr is kept in the run directory and the boot throws.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArchDef } from '../model/arch.ts';
import { infraError } from '../util/errors.ts';
import { spawn } from '../util/proc.ts';
import type { Accel } from './accel.ts';
import { hangMarkLine } from './hang-mark.ts';
import { DEFAULT_VM, vmQemuArgs, type VmSpec } from './vm.ts';

export interface BootRequest {
  arch: ArchDef;
  accel: Accel;
  kernelImage: string;
  initrd: string;
  extraCmdline?: string;
  /** CPUs, memory, CPU model, devices and command-line words (default: DEFAULT_VM). */
  vm?: VmSpec;
  consolePath: string;
  /** Where QEMU's stderr is kept (default: qemu-stderr.log beside the console log). */
  stderrPath?: string;
  /** Kill QEMU when the console has been silent this long. */
  silenceMs: number;
  /** Kill QEMU after this long in all. */
  overallMs: number;
  /** Each console chunk as it arrives (live progress). */
  onData?: (chunk: Buffer) => void;
}

export interface BootResult {
  exitCode: number | null;
  hang?: 'silence' | 'overall';
  elapsedMs: number;
  /** QEMU's own stderr (errors about the machine, not the guest). */
  stderr: string;
}

/** Pure: the full QEMU command line, also written to reproducer.sh. */
export function qemuArgv(req: Pick<BootRequest, 'arch' | 'accel' | 'kernelImage' | 'initrd' | 'extraCmdline' | 'vm'>): string[] {
  const vm = req.vm ?? DEFAULT_VM;
  const cmdline = [req.arch.cmdline, ...vm.cmdline, req.extraCmdline ?? ''].join(' ').trim();
  return [req.arch.qemuBinary, ...req.accel.args, ...req.arch.qemuArgs, ...vmQemuArgs(vm), '-kernel', req.kernelImage, '-initrd', req.initrd, '-append', cmdline];
}

/** QEMU's own words for "I could not set up this machine", preferred as the reason. */
const QEMU_FAILURES: readonly RegExp[] = [
  /could not load kernel/i,
  /could not open kernel file/i,
  /error loading/i,
  /linux kernel too old to load a ram disk/i,
  /initrd|initial ram disk/i,
  /failed to initialize/i,
  /could not (?:open|initialize|allocate|access)/i,
];

/**
 * Pure: why this boot failed on QEMU's side, or null when the guest ran (its
 * console is for the console stage to judge). QEMU exits 0 when the guest
 * powers off, panics with panic=-1 or triple-faults under -no-reboot, so any
 * other status means QEMU itself gave up (a loader error, a bad option), and
 * a signal we did not send means someone else killed it. A hang is the
 * runner's own kill, judged from the console.
 */
export function qemuFailure(r: { exitCode: number | null; hang?: BootResult['hang']; stderr: string; signal?: string }): string | null {
  if (r.hang) return null;
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (r.exitCode === null) return r.signal ? `QEMU was killed by ${r.signal}` : null;
  if (r.exitCode === 0) return null;
  const reason = lines.find((l) => QEMU_FAILURES.some((re) => re.test(l))) ?? lines[0];
  return `QEMU exited with status ${r.exitCode}${reason ? `: ${reason}` : ' without a message'}`;
}

export async function bootKernel(req: BootRequest): Promise<BootResult> {
  const [file, ...args] = qemuArgv(req);
  const out = createWriteStream(req.consolePath);
  const t0 = Date.now();
  const p = spawn(file!, args, { stdin: 'ignore', buffer: { stdout: false, stderr: true }, stripFinalNewline: false });
  let hang: BootResult['hang'];
  const kill = (why: 'silence' | 'overall') => {
    if (hang) return;
    hang = why;
    p.kill('SIGKILL');
  };
  let silence = setTimeout(() => kill('silence'), req.silenceMs);
  const overall = setTimeout(() => kill('overall'), req.overallMs);
  let atLineStart = true;
  p.stdout?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 0x0a;
    req.onData?.(chunk);
    clearTimeout(silence);
    silence = setTimeout(() => kill('silence'), req.silenceMs);
  });
  const r = await p;
  clearTimeout(silence);
  clearTimeout(overall);
  // Recorded in the log itself, so a later `kseries parse` sees the kill too.
  if (hang) out.write(`${atLineStart ? '' : '\r\n'}${hangMarkLine(hang, hang === 'silence' ? req.silenceMs : req.overallMs)}\r\n`);
  await new Promise<void>((res) => out.end(() => res()));
  const stderr = String(r.stderr ?? '');
  if (r.exitCode === undefined && !r.isTerminated) {
    throw infraError(`cannot start ${file}: ${(r as { code?: string }).code === 'ENOENT' ? 'not installed (run make deps)' : r.shortMessage}`);
  }
  const result: BootResult = { exitCode: r.exitCode ?? null, ...(hang ? { hang } : {}), elapsedMs: Date.now() - t0, stderr };
  const stderrPath = req.stderrPath ?? join(dirname(req.consolePath), 'qemu-stderr.log');
  await writeFile(stderrPath, stderr);
  const failed = qemuFailure({ ...result, ...(r.signal ? { signal: r.signal } : {}) });
  if (failed) throw infraError(`QEMU could not boot ${req.kernelImage}: ${failed} (see ${stderrPath})`);
  return result;
}
