// Boot stage: start QEMU, tee the serial console to console.log as it
// arrives, and enforce a silence limit and an overall limit. It does not
// parse the console; the console stage does.
import { createWriteStream } from 'node:fs';
import type { ArchDef } from '../model/arch.ts';
import { infraError } from '../util/errors.ts';
import { spawn } from '../util/proc.ts';
import type { Accel } from './accel.ts';
import { hangMarkLine } from './hang-mark.ts';

export interface BootRequest {
  arch: ArchDef;
  accel: Accel;
  kernelImage: string;
  initrd: string;
  extraCmdline?: string;
  consolePath: string;
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
export function qemuArgv(req: Pick<BootRequest, 'arch' | 'accel' | 'kernelImage' | 'initrd' | 'extraCmdline'>): string[] {
  const cmdline = [req.arch.cmdline, req.extraCmdline ?? ''].join(' ').trim();
  return [req.arch.qemuBinary, ...req.accel.args, ...req.arch.qemuArgs, '-kernel', req.kernelImage, '-initrd', req.initrd, '-append', cmdline];
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
  return { exitCode: r.exitCode ?? null, ...(hang ? { hang } : {}), elapsedMs: Date.now() - t0, stderr };
}
