// Pure digest of a kernel build log: how many objects were built and which
// lines explain a failure.

/** Kbuild's quiet-mode lines: "  CC      kernel/fork.o". */
const OBJECT_LINE = /^\s{2}(CC|AS|LD|AR|HOSTCC|HOSTLD|OBJCOPY|GEN|UPD|CPP|LDS|RELOCS|VOFFSET|ZOFFSET|MKPIGGY|SYSHDR|SYSTBL|WRAP|POLICY|CHK|SYNC|BUILD|DESCEND|CALL|COPY|MKELF|GZIP|XZKERN|UNROLL|VDSO2C|VDSO|VDSOSYM|VDSOCHECK|EXPORTS|KSYMS|SORTTAB|MODPOST|TABLE|STRIP|CERT)(\s|\[)/;

export function isObjectLine(line: string): boolean {
  return OBJECT_LINE.test(line);
}

/** A C compilation ("  CC      kernel/fork.o"): the object count the README and make bench quote. */
export function isCompileLine(line: string): boolean {
  return /^\s{2}CC\s/.test(line);
}

const ERROR_LINE = /(\berror\b|\bError \d+|\*\*\*|undefined reference|No rule to make target|fatal:|Segmentation fault|Killed)/;

/** The last lines that explain a failed build (compiler errors first, make's "***" lines last). */
export function buildErrorLines(log: string, max = 12): string[] {
  const lines = log.split('\n').filter((l) => ERROR_LINE.test(l));
  return lines.slice(-max);
}
