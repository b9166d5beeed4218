// A newc ("070701") cpio writer: the format the kernel unpacks as an initramfs.
// Pure: entries in, bytes out, so it is unit-testable without a kernel.

export type CpioEntry =
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'file'; name: string; data: Buffer; mode?: number }
  | { type: 'char'; name: string; major: number; minor: number; mode?: number }
  /** A symbolic link to `target` (relative to the link's directory, or absolute in the guest). */
  | { type: 'symlink'; name: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function header(ino: number, mode: number, nlink: number, size: number, rmaj: number, rmin: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameSize, 0].map(hex8).join('');
}

/** Serialise entries; names are relative ("init", "dev/console"), parents must come first. */
export function writeCpio(entries: CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  const push = (hdr: string, name: string, data?: Buffer) => {
    const nameBuf = Buffer.from(name + '\0');
    const head = Buffer.concat([Buffer.from(hdr, 'ascii'), nameBuf]);
    chunks.push(head, pad4(head.length));
    if (data && data.length > 0) chunks.push(data, pad4(data.length));
  };
  for (const e of entries) {
    const name = e.name.replace(/^\/+/, '');
    const nameSize = Buffer.byteLength(name) + 1;
    if (e.type === 'dir') push(header(ino++, S_IFDIR | (e.mode ?? 0o755), 2, 0, 0, 0, nameSize), name);
    else if (e.type === 'char') push(header(ino++, S_IFCHR | (e.mode ?? 0o600), 1, 0, e.major, e.minor, nameSize), name);
    else if (e.type === 'symlink') {
      const target = Buffer.from(e.target);
      push(header(ino++, S_IFLNK | 0o777, 1, target.length, 0, 0, nameSize), name, target);
    }
    else push(header(ino++, S_IFREG | (e.mode ?? 0o644), 1, e.data.length, 0, 0, nameSize), name, e.data);
  }
  push(header(0, 0, 1, 0, 0, 0, 'TRAILER!!!'.length + 1), 'TRAILER!!!');
  return Buffer.concat(chunks);
}

/** Add every missing parent directory of the entries, in order, so the cpio unpacks cleanly. */
export function withParents(entries: CpioEntry[]): CpioEntry[] {
  const seen = new Set<string>();
  const out: CpioEntry[] = [];
  for (const e of entries) {
    const parts = e.name.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        out.push({ type: 'dir', name: dir });
      }
    }
    const name = parts.join('/');
    if (e.type === 'dir') {
      if (seen.has(name)) continue;
      seen.add(name);
    }
    out.push({ ...e, name });
  }
  return out;
}
