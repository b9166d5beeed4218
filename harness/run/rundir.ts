// The run directory: every artefact of one run (console.log, build.log,
// results.json, reproducer.sh, config, bzImage, initramfs.cpio).
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { shellQuote } from '../util/proc.ts';

export function defaultRunDir(cwd = process.cwd(), now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join(cwd, 'runs', `${stamp}-${process.pid}`);
}

export async function createRunDir(out?: string): Promise<string> {
  const dir = resolve(out ?? defaultRunDir());
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface ReproducerSpec {
  srcDir: string;
  makeArch: string;
  /** make arguments after `make -C SRC O=$B ARCH=..`, e.g. ['-j2', 'CC=ccache gcc', 'bzImage']. */
  buildArgs: string[];
  buildEnv: Record<string, string>;
  /** Relative to the build dir. */
  image: string;
  /** A variant: the shared worktree must be put back on the commit that was built. */
  checkout?: { dir: string; commit: string };
  /** QEMU argv with the kernel and initrd given by the two placeholders below. */
  qemuArgv: string[];
}

export const KERNEL_PLACEHOLDER = '@KERNEL@';
export const INITRD_PLACEHOLDER = '@INITRD@';

/** Pure: the text of reproducer.sh. It is written before the boot, so a hung run still has it. */
export function reproducerScript(s: ReproducerSpec): string {
  const env = Object.entries(s.buildEnv).map(([k, v]) => `${k}=${shellQuote(v)} `).join('');
  const make = `make -C ${shellQuote(s.srcDir)} O="$B" ARCH=${shellQuote(s.makeArch)}`;
  const qemu = s.qemuArgv
    .map((a) => (a === KERNEL_PLACEHOLDER ? '"$KERNEL"' : a === INITRD_PLACEHOLDER ? '"$RUN/initramfs.cpio"' : shellQuote(a)))
    .join(' ');
  return `#!/bin/sh
# Reproduce this kseries run.
#   ./reproducer.sh          rebuild the kernel from 'config' into \$B, then boot it
#   ./reproducer.sh boot     boot the kernel kept in this directory (bzImage)
set -eu
RUN=$(cd "$(dirname "$0")" && pwd)
B=\${B:-$RUN/build}
if [ "\${1:-}" = boot ]; then
  KERNEL="$RUN/bzImage"
else
  ${s.checkout ? `git -C ${shellQuote(s.checkout.dir)} checkout -q -f ${s.checkout.commit}
  ` : ''}mkdir -p "$B"
  cp "$RUN/config" "$B/.config"
  ${make} olddefconfig
  ${env}${make} ${s.buildArgs.map(shellQuote).join(' ')}
  KERNEL="$B/${s.image}"
fi
exec ${qemu}
`;
}

export async function writeReproducer(runDir: string, spec: ReproducerSpec): Promise<string> {
  const p = join(runDir, 'reproducer.sh');
  await writeFile(p, reproducerScript(spec));
  await chmod(p, 0o755);
  return p;
}
