// Does the boot image hold the kernel this build made?
//
// An x86 bzImage carries the compressed vmlinux as the payload of
// arch/x86/boot/compressed/piggy.o: piggy.S is an `.incbin` of
// vmlinux.bin.<comp> plus its sizes. ccache cannot see an .incbin (it is not
// a preprocessor include). In its default mode it notices the directive in
// the preprocessed source and does not cache, but in depend mode, or with a
// manifest a depend-mode run left in the cache, it hands back an older
// piggy.o whenever piggy.S is byte for byte the same, that is whenever two
// kernels compress to the same size. The image then boots another kernel
// than the one built: a v4 bisect named 6/9 instead of 8/9 that way.
// The compressed payload is stored verbatim in the image, so the check is a
// byte search.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchDef } from '../model/arch.ts';

/** Pure: the file an assembler source `.incbin`s, or null. */
export function incbinTarget(asmSource: string): string | null {
  const m = /^\s*\.incbin\s+"([^"]+)"/m.exec(asmSource);
  return m ? m[1]! : null;
}

/**
 * Why `image` does not hold this build dir's compressed kernel, or null when it does
 * (or when the arch has no payload to check, or this build system makes none).
 */
export async function payloadMismatch(buildDir: string, arch: ArchDef): Promise<string | null> {
  if (!arch.payloadSource) return null;
  const src = await readFile(join(buildDir, arch.payloadSource), 'utf8').catch(() => null);
  if (src === null) return null;
  const target = incbinTarget(src);
  if (target === null) return `${arch.payloadSource} has no .incbin line`;
  const payload = await readFile(join(buildDir, target)).catch(() => null);
  if (payload === null) return `${target}, named by ${arch.payloadSource}, is missing`;
  if (payload.length === 0) return `${target} is empty`;
  const image = await readFile(join(buildDir, arch.image)).catch(() => null);
  if (image === null) return `${arch.image} is missing`;
  if (image.indexOf(payload) < 0) return `${arch.image} does not hold ${target}: its ${payloadObject(arch)} carries an older kernel (a stale ccache result)`;
  return null;
}

/** The object assembled from the payload source (piggy.o), which a repair deletes. */
export function payloadObject(arch: ArchDef): string {
  return arch.payloadSource ? arch.payloadSource.replace(/\.S$/, '.o') : '';
}
