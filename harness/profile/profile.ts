// A profile: a directory under patches/ with profile.json describing the
// upstream references, config fragments, probes and named variants.
// Data only; validation gives one clear error per problem.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { usageError } from '../util/errors.ts';
import { DEFAULT_ABIS } from '../model/arch.ts';
import type { VmOverrides } from '../qemu/vm.ts';

/** One step of a variant: patches from a series revision, or a patch/mbox file of the profile. */
export type PatchSelection =
  | { series: string; select?: string; drop?: number[] }
  | { file: string }
  /** A diff posted in a reply, by Message-ID, used as posted. */
  | { message: string };

export interface Variant {
  name: string;
  description: string;
  patches: PatchSelection[];
}

export interface SeriesRef {
  /** Any message of the series (normally the cover). */
  messageId: string;
  revision?: number;
  /** An mbox inside the profile holding it (offline profiles); otherwise --inbox/--mbox/lore. */
  mbox?: string;
}

export interface BaseRef {
  kernel: string;
  /** 'debian-linux-source-6.1' for the offline default; otherwise a kernel.org tarball. */
  source?: 'debian-linux-source-6.1';
  tarball?: string;
  sha256?: string;
  /** How to get it from a git checkout, e.g. the tag v5.9.1. */
  gitRef?: string;
  note?: string;
}

export interface Profile {
  name: string;
  dir: string;
  description: string;
  base: BaseRef;
  series: Record<string, SeriesRef>;
  /** Absolute paths of the profile's own fragments (after patches/base/<arch>.config). */
  fragments: string[];
  probes: string[];
  /** Probes also run as an unprivileged user. */
  unprivileged: string[];
  abis: string[];
  /** The machine its kernels boot in: "vm": {smp, memory (MiB), cpu, qemuArgs, cmdline}; the command line's flags win. */
  vm?: VmOverrides;
  variants: Variant[];
}

type Json = Record<string, unknown>;

function req<T>(cond: unknown, where: string, what: string): asserts cond {
  if (!cond) throw usageError(`${where}: ${what}`);
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x !== '';
const isStrArray = (x: unknown): x is string[] => Array.isArray(x) && x.every(isStr);

function parseSelection(x: unknown, where: string, series: Record<string, SeriesRef>, dir: string): PatchSelection {
  req(x && typeof x === 'object', where, 'each patch selection must be an object');
  const o = x as Json;
  if ('message' in o) {
    req(isStr(o.message), where, '"message" must be a Message-ID');
    return { message: o.message };
  }
  if ('file' in o) {
    req(isStr(o.file), where, '"file" must be a path');
    req(existsSync(join(dir, o.file)), where, `patch file ${o.file} does not exist in the profile`);
    return { file: o.file };
  }
  req(isStr(o.series), where, 'a selection needs "series" (a key of "series"), "file" or "message"');
  req(o.series in series, where, `unknown series "${o.series}" (have: ${Object.keys(series).join(', ')})`);
  const sel: PatchSelection = { series: o.series };
  if (o.select !== undefined) {
    req(isStr(o.select) && /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(o.select), where, '"select" must look like 1-3,5');
    sel.select = o.select;
  }
  if (o.drop !== undefined) {
    req(Array.isArray(o.drop) && o.drop.every((n) => Number.isInteger(n) && (n as number) > 0), where, '"drop" must be a list of patch numbers');
    sel.drop = o.drop as number[];
  }
  return sel;
}

/** Load and validate patches/<name>/profile.json. `ref` is a directory or its profile.json. */
export async function loadProfile(ref: string): Promise<Profile> {
  const dir = resolve(basename(ref) === 'profile.json' ? dirname(ref) : ref);
  const file = join(dir, 'profile.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw usageError(`profile ${file}: ${existsSync(file) ? (e as Error).message : 'no profile.json there'}`);
  }
  const where = file;
  req(raw && typeof raw === 'object', where, 'must hold a JSON object');
  const o = raw as Json;
  req(isStr(o.description), where, '"description" is required');
  const base = o.base as BaseRef | undefined;
  req(base && isStr(base.kernel), where, '"base.kernel" is required');
  req(base.sha256 === undefined || /^[0-9a-f]{64}$/.test(base.sha256), where, '"base.sha256" must be 64 hex digits');
  const series: Record<string, SeriesRef> = {};
  for (const [k, v] of Object.entries((o.series ?? {}) as Json)) {
    const s = v as SeriesRef;
    req(s && isStr(s.messageId), `${where}: series ${k}`, '"messageId" is required');
    req(s.mbox === undefined || existsSync(join(dir, s.mbox)), `${where}: series ${k}`, `mbox ${s.mbox} does not exist in the profile`);
    series[k] = s;
  }
  const fragments = (o.fragments ?? []) as unknown;
  req(isStrArray(fragments), where, '"fragments" must be a list of files');
  for (const f of fragments) req(existsSync(join(dir, f)), where, `fragment ${f} does not exist in the profile`);
  req(isStrArray(o.probes), where, '"probes" must be a list of probe names');
  const unprivileged = (o.unprivileged ?? []) as unknown;
  req(isStrArray(unprivileged) && unprivileged.every((p) => (o.probes as string[]).includes(p)), where, '"unprivileged" must list some of "probes"');
  const abis = (o.abis ?? [...DEFAULT_ABIS]) as unknown;
  req(isStrArray(abis), where, '"abis" must be a list');
  req(o.variants && typeof o.variants === 'object', where, '"variants" is required');
  const variants: Variant[] = [];
  for (const [name, v] of Object.entries(o.variants as Json)) {
    const vw = `${where}: variant ${name}`;
    req(/^[A-Za-z0-9][A-Za-z0-9+._-]*$/.test(name), vw, 'names use letters, digits, + . _ -');
    const vo = v as Json;
    req(vo && Array.isArray(vo.patches), vw, '"patches" must be a list (empty for the base)');
    variants.push({
      name,
      description: isStr(vo.description) ? vo.description : '',
      patches: (vo.patches as unknown[]).map((p, i) => parseSelection(p, `${vw}, patch ${i + 1}`, series, dir)),
    });
  }
  req(variants.length > 0, where, 'no variants');
  const vm = o.vm === undefined ? undefined : parseVm(o.vm, `${where}: "vm"`);
  return {
    name: basename(dir),
    dir,
    description: o.description as string,
    base,
    series,
    fragments: fragments.map((f) => join(dir, f)),
    probes: o.probes as string[],
    unprivileged,
    abis: abis as string[],
    ...(vm ? { vm } : {}),
    variants,
  };
}

function parseVm(x: unknown, where: string): VmOverrides {
  req(x && typeof x === 'object' && !Array.isArray(x), where, 'must be an object');
  const o = x as Json;
  const known = ['smp', 'memory', 'cpu', 'qemuArgs', 'cmdline'];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  req(unknown.length === 0, where, `unknown field(s) ${unknown.join(', ')} (have: ${known.join(', ')})`);
  const count = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  req(o.smp === undefined || count(o.smp, 1, 64), where, '"smp" must be a whole number from 1 to 64');
  req(o.memory === undefined || count(o.memory, 64, 16384), where, '"memory" must be MiB, from 64 to 16384');
  req(o.cpu === undefined || isStr(o.cpu), where, '"cpu" must be a QEMU CPU model');
  req(o.qemuArgs === undefined || isStrArray(o.qemuArgs), where, '"qemuArgs" must be a list of QEMU arguments');
  req(o.cmdline === undefined || isStr(o.cmdline), where, '"cmdline" must be a string of kernel command-line words');
  return {
    ...(o.smp !== undefined ? { smp: o.smp as number } : {}),
    ...(o.memory !== undefined ? { memoryMb: o.memory as number } : {}),
    ...(o.cpu !== undefined ? { cpu: o.cpu as string } : {}),
    ...(o.qemuArgs !== undefined ? { qemuArgs: o.qemuArgs as string[] } : {}),
    ...(o.cmdline !== undefined ? { cmdline: (o.cmdline as string).split(/\s+/).filter(Boolean) } : {}),
  };
}

export function findVariant(p: Profile, name: string): Variant {
  const v = p.variants.find((x) => x.name === name);
  if (!v) throw usageError(`profile ${p.name} has no variant "${name}" (have: ${p.variants.map((x) => x.name).join(', ')})`);
  return v;
}
