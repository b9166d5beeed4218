// The run directory: every artefact of one run (console.log, build.log,
// results.json, reproducer.sh, config, bzImage, initramfs.cpio).
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DEBIAN_SOURCE_TARBALL, type SourceTree, type TreeSpec } from '../kernel/tree.ts';
import { infraError } from '../util/errors.ts';
import { runCommand, shellQuote, type CommandRunner } from '../util/proc.ts';
import { git as runGitOrThrow } from '../util/git.ts';

/** How --help names the default run directory (defaultRunDir). */
export const RUN_DIR_DEFAULT = './runs/<yyyymmdd>-<hhmmss>-<pid>';

function defaultRunDir(cwd = process.cwd(), now = new Date()): string {
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
  /** A variant: the shared worktree must be put back on the commit that was built, under kseries' lock. */
  checkout?: { dir: string; commit: string };
  /** How to recreate the sources where srcDir is absent (another machine, a cleaned cache). */
  source?: ReproducerSource;
  /** QEMU argv with the kernel and initrd given by the two placeholders below. */
  qemuArgv: string[];
}

export interface ReproducerSource {
  base: { kind: 'tarball'; location: string; sha256: string } | { kind: 'git'; repo: string; commit: string };
  /** Diffs from base to the sources built, relative to the run dir, applied in order. */
  patches: string[];
  /** git tree hash of the sources built: the recreated tree must match it. */
  tree?: string;
}

export const KERNEL_PLACEHOLDER = '@KERNEL@';
export const INITRD_PLACEHOLDER = '@INITRD@';

/**
 * The mkdir lock of harness/cache/store.ts in shell: a lock dir beside the
 * worktree holding "host:pid"; a dead owner's lock on this host is taken over.
 */
/**
 * The same flock(1) lock kseries takes on the worktree (cache/locks/worktrees/<key>,
 * see cache/lock.ts): it dies with its holder, so there is never a stale one.
 */
function lockFunctions(dir: string): string {
  const lockFile = join(dirname(dirname(dir)), 'locks', 'worktrees', basename(dir));
  return `LOCK=${shellQuote(lockFile)}
take_lock() {
  mkdir -p "$(dirname "$LOCK")"
  exec 9>>"$LOCK"
  if ! flock -n 9; then
    echo "reproducer: waiting for $(cat "$LOCK.owner" 2>/dev/null || echo 'another process') to release $SRC" >&2
    flock 9
  fi
}
drop_lock() { flock -u 9; exec 9>&-; }
`;
}

function recreateFunction(src: ReproducerSource): string {
  const b = src.base;
  const fetch =
    b.kind === 'tarball'
      ? `  T=${shellQuote(b.location)}
  case "$T" in
    http://*|https://*) [ -f "$RUN/src.tar" ] || curl -fsSL -o "$RUN/src.tar" "$T" || die "cannot download $T"; T="$RUN/src.tar" ;;
  esac
  [ -f "$T" ] || die "the tree's tarball $T is missing"
  echo "${b.sha256}  $T" | sha256sum -c --status - || die "$T does not have sha256 ${b.sha256}"
  tar -xf "$T" -C "$S" --strip-components=1`
      : `  R=\${KSERIES_TREE:-${shellQuote(b.repo)}}
  git -C "$R" cat-file -e "${b.commit}^{commit}" 2>/dev/null || die "commit ${b.commit} is not in $R: set KSERIES_TREE to a Linux checkout that has it"
  git -C "$R" archive --format=tar ${b.commit} | tar -xf - -C "$S"`;
  const apply = src.patches.map((p) => `  git -C "$S" apply --index --whitespace=nowarn "$RUN/"${shellQuote(p)} || die "cannot apply ${p.replace(/["$`\\]/g, '')}"`).join('\n');
  const check = src.tree
    ? `\n  [ "$(git -C "$S" write-tree)" = ${src.tree} ] || die "the recreated sources are not the ones built (git tree ${src.tree})"`
    : '';
  return `recreate() {
  S="$RUN/src"
  echo "reproducer: recreating the sources in $S" >&2
  rm -rf "$S"
  mkdir -p "$S"
${fetch}
  git -C "$S" init -q
  git -C "$S" add -A -f${apply ? '\n' + apply : ''}${check}
  SRC="$S"
}
`;
}

/** Pure: the text of reproducer.sh. It is written before the boot, so a hung run still has it. */
export function reproducerScript(s: ReproducerSpec): string {
  const env = Object.entries(s.buildEnv).map(([k, v]) => `${k}=${shellQuote(v)} `).join('');
  const make = `make -C "$SRC" O="$B" ARCH=${shellQuote(s.makeArch)}`;
  const qemu = s.qemuArgv
    .map((a) => (a === KERNEL_PLACEHOLDER ? '"$KERNEL"' : a === INITRD_PLACEHOLDER ? '"$RUN/initramfs.cpio"' : shellQuote(a)))
    .join(' ');
  const inPlace = s.checkout
    ? `    take_lock
    git -C "$SRC" checkout -q -f ${s.checkout.commit}
    build
    drop_lock`
    : s.source?.base.kind === 'git' && s.source.patches.length === 0
      ? `    if [ "$(git -C "$SRC" rev-parse HEAD 2>/dev/null)" != ${s.source.base.commit} ]; then
      echo "reproducer: $SRC is no longer at ${s.source.base.commit}" >&2
      recreate
    fi
    build`
      : '    build';
  const fresh = s.source ? '    recreate\n    build' : `    die "$SRC is gone and this run recorded no way to recreate it"`;
  return `#!/bin/sh
# Reproduce this kseries run.
#   ./reproducer.sh          rebuild the kernel from 'config' into \$B, then boot it
#                            (in ${s.srcDir.replace(/\n/g, ' ')} when it is there, else from recreated sources)
#   ./reproducer.sh fresh    rebuild from sources recreated in \$RUN/src (base + patches/)
#   ./reproducer.sh boot     boot the kernel kept in this directory (bzImage)
set -eu
RUN=$(cd "$(dirname "$0")" && pwd)
B=\${B:-$RUN/build}
SRC=${shellQuote(s.srcDir)}
die() { echo "reproducer: $*" >&2; exit 2; }
build() {
  mkdir -p "$B"
  cp "$RUN/config" "$B/.config"
  ${make} olddefconfig
  ${env}${make} ${s.buildArgs.map(shellQuote).join(' ')}
}
${s.checkout ? lockFunctions(s.checkout.dir) : ''}${s.source ? recreateFunction(s.source) : ''}MODE=\${1:-build}
if [ "$MODE" = boot ]; then
  KERNEL="$RUN/bzImage"
else
  if [ "$MODE" != fresh ] && [ -d "$SRC" ]; then
${inPlace}
  else
${fresh}
  fi
  KERNEL="$B/${s.image}"
fi
exec ${qemu}
`;
}

export interface SourceRecord {
  spec: TreeSpec;
  tree: SourceTree;
  /** The variant built: its commits base..head in repoDir become patches/. */
  variant?: { repoDir: string; baseCommit: string; head: string };
  defaultTarball?: string;
}

/**
 * Write patches/ into the run dir and say where the base comes from, so
 * reproducer.sh can rebuild on a machine without this cache.
 */
export async function recordSources(runDir: string, r: SourceRecord, run: CommandRunner = runCommand): Promise<ReproducerSource> {
  const git = (cwd: string, args: string[]) => runGitOrThrow(cwd, args, { run, maxBuffer: 1 << 30 });
  const tarballSha = /^tarball:([0-9a-f]{64})$/.exec(r.tree.identity)?.[1];
  let base: ReproducerSource['base'];
  if (r.spec.kind === 'tarball' && tarballSha) {
    const loc = /^https?:\/\//.test(r.spec.location) ? r.spec.location : resolve(r.spec.location);
    base = { kind: 'tarball', location: loc, sha256: tarballSha };
  } else if (r.spec.kind === 'default' && tarballSha) {
    base = { kind: 'tarball', location: r.defaultTarball ?? DEBIAN_SOURCE_TARBALL, sha256: tarballSha };
  } else if (r.variant) {
    base = { kind: 'git', repo: r.variant.repoDir, commit: r.variant.baseCommit };
  } else {
    base = { kind: 'git', repo: r.tree.srcDir, commit: (await git(r.tree.srcDir, ['rev-parse', 'HEAD'])).trim() };
  }
  const patches: string[] = [];
  let tree: string | undefined;
  if (r.variant) {
    const dir = join(runDir, 'patches');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const { repoDir, baseCommit, head } = r.variant;
    const names = (await git(repoDir, ['format-patch', '--binary', '--no-signature', '--full-index', '-o', dir, `${baseCommit}..${head}`])).trim();
    for (const f of names.split('\n').filter(Boolean)) patches.push(relative(runDir, resolve(repoDir, f)));
    tree = (await git(repoDir, ['rev-parse', `${head}^{tree}`])).trim();
  } else if (r.tree.identity.includes('+dirty')) {
    await writeFile(join(runDir, 'uncommitted.diff'), await git(r.tree.srcDir, ['diff', 'HEAD', '--binary', '--full-index']));
    patches.push('uncommitted.diff');
  } else if (base.kind === 'git') {
    tree = (await git(r.tree.srcDir, ['rev-parse', 'HEAD^{tree}'])).trim();
  }
  return { base, patches, ...(tree ? { tree } : {}) };
}

/** The kernel built, and its .config: bzImage and config (reproducer.sh boots and rebuilds from them). */
export async function writeBuildArtefacts(runDir: string, build: { kernelImage: string; configText: string }): Promise<void> {
  await copyFile(build.kernelImage, join(runDir, 'bzImage'));
  await writeFile(join(runDir, 'config'), build.configText);
}

/** The guest image: initramfs.cpio, and plan (what its init runs). Returns the initramfs path. */
export async function writeImageArtefacts(runDir: string, image: { cpio: Uint8Array; planText: string }): Promise<string> {
  const initrd = join(runDir, 'initramfs.cpio');
  await writeFile(initrd, image.cpio);
  await writeFile(join(runDir, 'plan'), image.planText);
  return initrd;
}

export async function writeReproducer(runDir: string, spec: ReproducerSpec): Promise<string> {
  const p = join(runDir, 'reproducer.sh');
  await writeFile(p, reproducerScript(spec));
  await chmod(p, 0o755);
  return p;
}

/** boot.json: the boot as data (for a farm's job, farm/lava.ts): QEMU without its -kernel/-initrd/-append, and the command line. */
export interface BootSpec {
  qemuBinary: string;
  qemuOptions: string[];
  cmdline: string;
  /** Beside boot.json. */
  kernel: string;
  initrd: string;
}

export function bootSpec(argv: readonly string[]): BootSpec {
  const [qemuBinary, ...rest] = argv;
  const qemuOptions: string[] = [];
  let cmdline = '';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '-kernel' || a === '-initrd') i++;
    else if (a === '-append') cmdline = rest[++i] ?? '';
    else qemuOptions.push(a);
  }
  return { qemuBinary: qemuBinary!, qemuOptions, cmdline, kernel: 'bzImage', initrd: 'initramfs.cpio' };
}

export async function writeBootSpec(runDir: string, argv: readonly string[]): Promise<void> {
  await writeFile(join(runDir, 'boot.json'), JSON.stringify(bootSpec(argv), null, 2) + '\n');
}
