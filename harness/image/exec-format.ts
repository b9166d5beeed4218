// What the guest kernel's execve() will need to run a file: for an ELF, its
// program interpreter (PT_INTERP); for a script, its #! interpreter. Pure:
// works on the file's first bytes, and says when it needs more of them.
import { open } from 'node:fs/promises';

export type ExecFormat =
  | { kind: 'elf'; bits: 32 | 64; machine: number; interpreter?: string }
  | { kind: 'script'; interpreter: string }
  /** Neither: execve() fails with ENOEXEC (the guest has no binfmt_misc). */
  | { kind: 'other' };

/** The bytes given end before the header does: read `need` bytes and ask again. */
export interface NeedMore {
  kind: 'short';
  need: number;
}

const PT_INTERP = 3;
/** fs/binfmt_script.c reads at most this much of the #! line (BINPRM_BUF_SIZE). */
const BINPRM_BUF_SIZE = 256;

export function execFormat(buf: Buffer, fileSize = buf.length): ExecFormat | NeedMore {
  const short = (end: number): NeedMore | null => (end > buf.length && end <= fileSize ? { kind: 'short', need: end } : null);
  if (buf.length >= 2 && buf[0] === 0x23 && buf[1] === 0x21) {
    const line = buf.subarray(2, BINPRM_BUF_SIZE).toString('latin1').split('\n')[0]!;
    const interpreter = line.trim().split(/[ \t]/)[0] ?? '';
    return interpreter === '' ? { kind: 'other' } : { kind: 'script', interpreter };
  }
  if (buf.length < 4 || buf.readUInt32BE(0) !== 0x7f454c46) return short(4) ?? { kind: 'other' };
  const bits = buf[4] === 2 ? 64 : buf[4] === 1 ? 32 : 0;
  const le = buf[5] !== 2;
  const ehsize = bits === 64 ? 64 : 52;
  if (bits === 0) return { kind: 'other' };
  const need = short(ehsize);
  if (need) return need;
  if (buf.length < ehsize) return { kind: 'other' };
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const word = (o: number) => (bits === 64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o));
  const machine = u16(18);
  const phoff = word(bits === 64 ? 32 : 28);
  const phentsize = u16(bits === 64 ? 54 : 42);
  const phnum = u16(bits === 64 ? 56 : 44);
  const phEnd = phoff + phentsize * phnum;
  const morePh = short(phEnd);
  if (morePh) return morePh;
  if (phEnd > buf.length) return { kind: 'elf', bits, machine };
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_INTERP) continue;
    const offset = word(ph + (bits === 64 ? 8 : 4));
    const size = word(ph + (bits === 64 ? 32 : 16));
    const moreInterp = short(offset + size);
    if (moreInterp) return moreInterp;
    const raw = buf.subarray(offset, offset + size).toString('latin1');
    return { kind: 'elf', bits, machine, interpreter: raw.split('\0')[0]! };
  }
  return { kind: 'elf', bits, machine };
}

/** Read just enough of a host file to know its ExecFormat. */
export async function readExecFormat(path: string): Promise<ExecFormat> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let want = Math.min(size, 4096);
    for (;;) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      const f = execFormat(buf.subarray(0, bytesRead), size);
      if (f.kind !== 'short') return f;
      if (f.need <= want) return { kind: 'other' };
      want = f.need;
    }
  } finally {
    await fh.close();
  }
}
