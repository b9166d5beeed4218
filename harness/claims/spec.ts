// Claim files: one claim from a review thread per JSON file in
// patches/<profile>/claims/*.json, and the predicate that decides it.
// parseClaim() is pure; loadClaims() only reads the files. Every problem is
// one line naming the file and the field (exit 2); readClaims() keeps the
// good claims and lists each bad file with its line, so one bad file does not
// stop the others from being decided.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ALL_ABIS } from '../model/arch.ts';
import { ExitCode, type Status } from '../model/results.ts';
import type { Profile } from '../profile/profile.ts';
import { normalizeMessageId } from '../mail/mbox.ts';
import type { ProbeCaseTable } from './probe-cases.ts';
import { KseriesError, usageError } from '../util/errors.ts';

export type CaseStatus = 'PASS' | 'FAIL' | 'SKIP';
/** Probe-level statuses a predicate may ask for (INFRA is never an observation). */
export type ProbeStatus = Exclude<Status, 'INFRA'>;
export type ClaimVerdict = 'confirmed' | 'refuted' | 'inconclusive' | 'infra-error';
export type Expectation = 'confirmed' | 'refuted';

export const CASE_STATUSES: readonly CaseStatus[] = ['PASS', 'FAIL', 'SKIP'];
export const PROBE_STATUSES: readonly ProbeStatus[] = ['PASS', 'FAIL', 'SKIP', 'TIMEOUT', 'CRASHED'];
/** Longest `claim` text: the claim in your own words, not a quote of the mail. */
export const MAX_CLAIM_CHARS = 400;
/** The `author` of a claim that is kseries' own observation: it has no Message-ID. */
export const OWN_AUTHOR = 'kseries';
/** Results of a probe run a second time as uid 65534 are reported as "<probe>_unpriv". */
export const UNPRIV_SUFFIX = '_unpriv';

/** A probe of one variant, run from one ABI. */
export interface ProbeRef {
  variant: string;
  abi: string;
  probe: string;
}
/** A probe, or one case of it when `case` is given. */
export interface Ref extends ProbeRef {
  case?: string;
}
export interface CaseRef extends ProbeRef {
  case: string;
}

/** A patch of a variant's series, 1-based as applied; without `patch`, every patch of the variant. */
export interface PatchRef {
  variant: string;
  patch?: number;
}
/** How a patch may be asked to have gone in (apply-types' ApplyMethod). */
export const APPLY_METHODS = ['am', 'am-3way', 'fuzzy'] as const;
export type ApplyMethodName = (typeof APPLY_METHODS)[number];

/** Facts of the series as it applied: decided without building or booting. */
export type SeriesPredicate =
  | { touches: PatchRef; path: string }
  | { applies: PatchRef & { patch: number }; method?: ApplyMethodName; exact?: boolean }
  | { samePatch: [PatchRef & { patch: number }, PatchRef & { patch: number }] }
  | SourcePredicate;

/** A line of the applied tree: `pattern` (a regex) on some line of the files under `path`. */
export interface SourcePredicate {
  source: { variant: string };
  path: string;
  pattern: string;
  present: boolean;
}

/** The key a source fact is kept under in a variant's outcome. */
export const sourceKey = (p: Pick<SourcePredicate, 'path' | 'pattern'>) => `${p.path}\0${p.pattern}`;

/** Every source predicate of an observable. */
export function sourcePredicates(p: Predicate): SourcePredicate[] {
  if ('source' in p) return [p];
  if ('all' in p) return p.all.flatMap(sourcePredicates);
  if ('any' in p) return p.any.flatMap(sourcePredicates);
  if ('not' in p) return sourcePredicates(p.not);
  return [];
}

/** The observable, exactly as written in the claim file (after validation). */
export type Predicate =
  | { case: CaseRef; status: CaseStatus; diagnostic?: string }
  | { probe: ProbeRef; status: ProbeStatus }
  | { same: [Ref, Ref]; value?: string }
  | { differ: [Ref, Ref]; value?: string }
  | { kmsg: ProbeRef; pattern: string; present: boolean }
  | SeriesPredicate
  | { all: Predicate[] }
  | { any: Predicate[] }
  | { not: Predicate };

export interface Claim {
  id: string;
  /** The file it came from ('' when parsed from memory without one). */
  file: string;
  /** OWN_AUTHOR ("kseries") for the project's own observation. */
  author: string;
  /** Without angle brackets; absent exactly when the claim is kseries' own observation. */
  messageId?: string;
  date: string;
  claim: string;
  note?: string;
  variants: string[];
  abis: string[];
  probes: string[];
  observable: Predicate;
  expect?: Expectation;
}

export interface ClaimContext {
  /** Shown in errors; its base name without .json is the default id. */
  file: string;
  /** Variant names of the profile. */
  variants: readonly string[];
  /** Probe names that exist (listProbes()). */
  probes: readonly string[];
  /** Known ABIs; default: every ABI some kernel architecture runs (compat, native64, native32). */
  abis?: readonly string[];
  /** Each probe's declared cases (loadProbeCases()); without it, case names are not checked. */
  cases?: ProbeCaseTable;
}

/** Is this claim kseries' own observation (no reviewer, no mail)? */
export const isOwnClaim = (c: Pick<Claim, 'author'>): boolean => c.author === OWN_AUTHOR;

/** The probe binary behind a claim's probe name ("x_unpriv" is x run unprivileged). */
export const probeBinary = (probe: string): string =>
  probe.endsWith(UNPRIV_SUFFIX) && probe.length > UNPRIV_SUFFIX.length ? probe.slice(0, -UNPRIV_SUFFIX.length) : probe;

type Json = Record<string, unknown>;

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';
const list = (xs: readonly string[]) => xs.join(', ');
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

const CLAIM_KEYS = ['id', 'author', 'messageId', 'date', 'claim', 'note', 'variants', 'abis', 'probes', 'observable', 'expect'];
const REF_KEYS = ['variant', 'abi', 'probe', 'case'];
const PREDICATE_KINDS = ['case', 'probe', 'same', 'differ', 'kmsg', 'touches', 'applies', 'samePatch', 'source', 'all', 'any', 'not'] as const;

/** "<variant> <probe>:<abi>[ <case>]", how a ref is named in reasons and reports. */
export function refLabel(r: Ref): string {
  return `${r.variant} ${r.probe}:${r.abi}${r.case !== undefined ? ` ${r.case}` : ''}`;
}

/** Every ref of a predicate, in order of appearance, duplicates kept. */
export function predicateRefs(p: Predicate): Ref[] {
  if ('case' in p) return [p.case];
  if ('probe' in p) return [p.probe];
  if ('same' in p) return [...p.same];
  if ('differ' in p) return [...p.differ];
  if ('kmsg' in p) return [p.kmsg];
  if ('touches' in p || 'applies' in p || 'samePatch' in p || 'source' in p) return [];
  if ('all' in p) return p.all.flatMap(predicateRefs);
  if ('any' in p) return p.any.flatMap(predicateRefs);
  return predicateRefs(p.not);
}

/** Every patch ref of a predicate (series facts, decided from how the variant applied: no boot). */
export function patchRefs(p: Predicate): PatchRef[] {
  if ('touches' in p) return [p.touches];
  if ('applies' in p) return [p.applies];
  if ('samePatch' in p) return [...p.samePatch];
  if ('source' in p) return [p.source];
  if ('all' in p) return p.all.flatMap(patchRefs);
  if ('any' in p) return p.any.flatMap(patchRefs);
  if ('not' in p) return patchRefs(p.not);
  return [];
}

/** "v2 patch 3", or "v2 (every patch)": how a patch ref is named in reasons. */
export const patchLabel = (r: PatchRef): string => (r.patch !== undefined ? `${r.variant} patch ${r.patch}` : `${r.variant} (every patch)`);

/** A claim's Message-ID, normalized as every Message-ID is (<>, id:, lore URLs); '' if it does not look like one. */
export function claimMessageId(x: string): string {
  const id = normalizeMessageId(x);
  return /^[^\s<>]+@[^\s<>]+$/.test(id) ? id : '';
}

/** Validate one parsed claim file. Throws a one-line usage error naming the file and field. */
export function parseClaim(raw: unknown, ctx: ClaimContext): Claim {
  const file = ctx.file;
  const fail = (field: string, what: string): never => {
    throw usageError(`claim ${file}: ${field}: ${what}`);
  };
  if (!isObj(raw)) fail('(file)', 'must hold one JSON object');
  const o = raw as Json;
  for (const k of Object.keys(o).filter((k) => o[k] !== undefined)) {
    if (!CLAIM_KEYS.includes(k)) fail(k, `unknown field (allowed: ${list(CLAIM_KEYS)})`);
  }

  const defaultId = basename(file).replace(/\.json$/i, '');
  const id = o.id === undefined ? defaultId : o.id;
  if (!isStr(id) || !ID_RE.test(id)) fail('id', `"${String(id)}" must be letters, digits, . _ + - (it defaults to the file name)`);

  const text = (field: string): string => {
    const v = o[field];
    if (!isStr(v)) fail(field, 'is required (a non-empty string)');
    return (v as string).trim();
  };
  const author = text('author');
  let messageId: string | undefined;
  if (author === OWN_AUTHOR) {
    if (o.messageId !== undefined) fail('messageId', `not allowed with "author": "${OWN_AUTHOR}" (kseries' own observation has no mail)`);
  } else {
    messageId = claimMessageId(text('messageId'));
    if (!messageId) fail('messageId', `"${String(o.messageId)}" is not a Message-ID (local@domain, with or without <>; or "author": "${OWN_AUTHOR}" for an own observation)`);
  }
  const date = text('date');
  if (Number.isNaN(Date.parse(date))) fail('date', `"${date}" is not a date (e.g. 2020-09-19 or an RFC 2822 Date: header)`);
  const claim = text('claim');
  if (claim.length > MAX_CLAIM_CHARS) {
    fail('claim', `${claim.length} characters, at most ${MAX_CLAIM_CHARS}: say it in your own words in 1-2 sentences, do not quote the mail`);
  }
  let note: string | undefined;
  if (o.note !== undefined) {
    if (typeof o.note !== 'string') fail('note', 'must be a string');
    note = (o.note as string).trim() || undefined;
  }

  const names = (field: 'variants' | 'abis' | 'probes', known: readonly string[], what: string): string[] => {
    // A claim about the series alone (touches, applies, samePatch) boots nothing: no ABIs or probes.
    const v = field !== 'variants' && o[field] === undefined ? [] : o[field];
    if (!Array.isArray(v) || (field === 'variants' && v.length === 0) || !v.every(isStr)) {
      fail(field, field === 'variants' ? `must be a non-empty list of ${what} names` : `must be a list of ${what} names`);
    }
    const out: string[] = [];
    for (const n of v as string[]) {
      if (!known.includes(n)) fail(field, `unknown ${what} "${n}" (have: ${list(known)})`);
      if (out.includes(n)) fail(field, `"${n}" is listed twice`);
      out.push(n);
    }
    return out;
  };
  const knownAbis = ctx.abis ?? ALL_ABIS;
  const variants = names('variants', ctx.variants, 'variant');
  const abis = names('abis', knownAbis, 'ABI');
  const probes = names('probes', ctx.probes, 'probe');

  const ref = (x: unknown, field: string, caseMode: 'required' | 'optional' | 'forbidden'): Ref => {
    if (!isObj(x)) fail(field, `must be an object {variant, abi, probe${caseMode === 'forbidden' ? '' : caseMode === 'required' ? ', case' : ', case?'}}`);
    const r = x as Json;
    for (const k of Object.keys(r).filter((k) => r[k] !== undefined)) {
      if (!REF_KEYS.includes(k)) fail(`${field}.${k}`, `unknown field (allowed: ${list(REF_KEYS)})`);
      if (k === 'case' && caseMode === 'forbidden') fail(`${field}.case`, 'not allowed here: use a "case" predicate for one case');
    }
    const member = (k: 'variant' | 'abi' | 'probe', declared: string[], plural: string): string => {
      const v = r[k];
      if (!isStr(v)) fail(`${field}.${k}`, 'is required');
      if (!declared.includes(v as string)) {
        fail(`${field}.${k}`, `"${String(v)}" is not among the claim's ${plural} (${list(declared)})`);
      }
      return v as string;
    };
    const out: Ref = { variant: member('variant', variants, 'variants'), abi: member('abi', abis, 'abis'), probe: member('probe', probes, 'probes') };
    if (r.case !== undefined || caseMode === 'required') {
      if (!isStr(r.case)) fail(`${field}.case`, caseMode === 'required' ? 'is required (a case name of the probe)' : 'must be a case name');
      const declared = ctx.cases?.[probeBinary(out.probe)];
      if (declared?.complete && !declared.names.includes(r.case as string)) {
        fail(`${field}.case`, `probe ${out.probe} has no case "${String(r.case)}" (cases: ${list(declared.names)})`);
      }
      out.case = r.case as string;
    }
    return out;
  };

  const patchRef = (x: unknown, field: string, patchRequired: boolean): PatchRef => {
    if (!isObj(x)) fail(field, `must be an object {variant, patch${patchRequired ? '' : '?'}}`);
    const r = x as Json;
    for (const k of Object.keys(r).filter((k) => r[k] !== undefined)) {
      if (k !== 'variant' && k !== 'patch') fail(`${field}.${k}`, 'unknown field (allowed: variant, patch)');
    }
    if (!isStr(r.variant)) fail(`${field}.variant`, 'is required');
    if (!variants.includes(r.variant as string)) fail(`${field}.variant`, `"${String(r.variant)}" is not among the claim's variants (${list(variants)})`);
    if (r.patch === undefined && patchRequired) fail(`${field}.patch`, 'is required (the patch number in the variant, from 1)');
    if (r.patch !== undefined && !(Number.isInteger(r.patch) && (r.patch as number) >= 1)) fail(`${field}.patch`, `${String(r.patch)} is not a patch number (1, 2, ...)`);
    return { variant: r.variant as string, ...(r.patch !== undefined ? { patch: r.patch as number } : {}) };
  };

  const status = <S extends string>(x: unknown, allowed: readonly S[], field: string): S => {
    if (typeof x !== 'string' || !allowed.includes(x as S)) fail(field, `"${String(x)}" is not one of ${list(allowed)}`);
    return x as S;
  };

  const predicate = (x: unknown, field: string): Predicate => {
    if (!isObj(x)) fail(field, `must be a predicate object (one of: ${list(PREDICATE_KINDS)})`);
    const p = x as Json;
    const kinds = PREDICATE_KINDS.filter((k) => p[k] !== undefined);
    if (kinds.length !== 1) {
      fail(field, kinds.length === 0 ? `needs one of: ${list(PREDICATE_KINDS)}` : `has both "${kinds[0]}" and "${kinds[1]}": nest them in "all"/"any"`);
    }
    const kind = kinds[0]!;
    const allowedKeys: Record<(typeof PREDICATE_KINDS)[number], string[]> = {
      case: ['case', 'status', 'diagnostic'],
      probe: ['probe', 'status'],
      same: ['same', 'value'],
      differ: ['differ', 'value'],
      kmsg: ['kmsg', 'pattern', 'present'],
      touches: ['touches', 'path'],
      applies: ['applies', 'method', 'exact'],
      samePatch: ['samePatch'],
      source: ['source', 'path', 'pattern', 'present'],
      all: ['all'],
      any: ['any'],
      not: ['not'],
    };
    for (const k of Object.keys(p).filter((k) => p[k] !== undefined)) {
      if (!allowedKeys[kind].includes(k)) fail(`${field}.${k}`, `not allowed in a "${kind}" predicate (allowed: ${list(allowedKeys[kind])})`);
    }
    switch (kind) {
      case 'case': {
        const out: Predicate = { case: ref(p.case, `${field}.case`, 'required') as CaseRef, status: status(p.status, CASE_STATUSES, `${field}.status`) };
        if (p.diagnostic !== undefined) {
          if (!isStr(p.diagnostic)) fail(`${field}.diagnostic`, 'must be a non-empty regular expression');
          try {
            new RegExp(p.diagnostic as string, 'i');
          } catch (e) {
            fail(`${field}.diagnostic`, `bad regular expression: ${(e as Error).message}`);
          }
          out.diagnostic = p.diagnostic as string;
        }
        return out;
      }
      case 'probe': {
        const r = ref(p.probe, `${field}.probe`, 'forbidden');
        return { probe: { variant: r.variant, abi: r.abi, probe: r.probe }, status: status(p.status, PROBE_STATUSES, `${field}.status`) };
      }
      case 'same':
      case 'differ': {
        const v = p[kind];
        if (!Array.isArray(v) || v.length !== 2) fail(`${field}.${kind}`, 'must be a list of exactly two refs');
        const pair = (v as unknown[]).map((r, i) => ref(r, `${field}.${kind}[${i}]`, 'optional')) as [Ref, Ref];
        if ((pair[0].case === undefined) !== (pair[1].case === undefined)) {
          fail(`${field}.${kind}`, 'compare a case with a case, or a probe with a probe (give "case" on both refs or neither)');
        }
        if (refLabel(pair[0]) === refLabel(pair[1])) fail(`${field}.${kind}`, 'compares a ref with itself');
        let value: string | undefined;
        if (p.value !== undefined) {
          // Compare one value the probe printed, e.g. "record_size=(\\d+)": the first capture group.
          if (!isStr(p.value)) fail(`${field}.value`, 'must be a regular expression with one capture group');
          let groups = 0;
          try {
            groups = new RegExp(`${p.value as string}|`).exec('')!.length - 1;
          } catch (e) {
            fail(`${field}.value`, `bad regular expression: ${(e as Error).message}`);
          }
          if (groups < 1) fail(`${field}.value`, `/${String(p.value)}/ has no capture group: put the value to compare in ( )`);
          if (pair[0].case === undefined) fail(`${field}.value`, 'compares a value of a case: give "case" on both refs');
          value = p.value as string;
        }
        const withValue = value !== undefined ? { value } : {};
        return kind === 'same' ? { same: pair, ...withValue } : { differ: pair, ...withValue };
      }
      case 'kmsg': {
        // A kernel-log line seen (or not) while the probe ran: a WARN, a pr_err_once.
        const r = ref(p.kmsg, `${field}.kmsg`, 'forbidden');
        if (!isStr(p.pattern)) fail(`${field}.pattern`, 'is required (a regular expression for the kernel-log line)');
        try {
          new RegExp(p.pattern as string, 'i');
        } catch (e) {
          fail(`${field}.pattern`, `bad regular expression: ${(e as Error).message}`);
        }
        if (p.present !== undefined && typeof p.present !== 'boolean') fail(`${field}.present`, 'must be true or false');
        return { kmsg: { variant: r.variant, abi: r.abi, probe: r.probe }, pattern: p.pattern as string, present: p.present !== false };
      }
      case 'touches': {
        const r = patchRef(p.touches, `${field}.touches`, false);
        if (!isStr(p.path)) fail(`${field}.path`, 'is required (a regular expression for a file path, e.g. "^fs/io_uring\\.c$")');
        try {
          new RegExp(p.path as string);
        } catch (e) {
          fail(`${field}.path`, `bad regular expression: ${(e as Error).message}`);
        }
        return { touches: r, path: p.path as string };
      }
      case 'applies': {
        const r = patchRef(p.applies, `${field}.applies`, true) as PatchRef & { patch: number };
        if (p.method === undefined && p.exact === undefined) fail(field, 'an "applies" predicate needs "method" or "exact"');
        const method = p.method !== undefined ? status(p.method, APPLY_METHODS, `${field}.method`) : undefined;
        if (p.exact !== undefined && typeof p.exact !== 'boolean') fail(`${field}.exact`, 'must be true (every hunk where the patch said) or false');
        return { applies: r, ...(method !== undefined ? { method } : {}), ...(p.exact !== undefined ? { exact: p.exact as boolean } : {}) };
      }
      case 'samePatch': {
        const v = p.samePatch;
        if (!Array.isArray(v) || v.length !== 2) fail(`${field}.samePatch`, 'must be a list of exactly two patch refs');
        const pair = (v as unknown[]).map((r, i) => patchRef(r, `${field}.samePatch[${i}]`, true)) as [PatchRef & { patch: number }, PatchRef & { patch: number }];
        if (patchLabel(pair[0]) === patchLabel(pair[1])) fail(`${field}.samePatch`, 'compares a patch with itself');
        return { samePatch: pair };
      }
      case 'source': {
        const r = patchRef(p.source, `${field}.source`, false);
        if (r.patch !== undefined) fail(`${field}.source.patch`, 'not allowed here: a source predicate reads the tree with all of the variant\'s patches applied');
        if (!isStr(p.path) || /^\/|(^|\/)\.\.(\/|$)/.test(p.path as string)) fail(`${field}.path`, 'is required: a file or directory of the tree, relative to its top (e.g. "include/linux/uio.h")');
        if (!isStr(p.pattern)) fail(`${field}.pattern`, 'is required (a regular expression for a line of those files)');
        try {
          new RegExp(p.pattern as string);
        } catch (e) {
          fail(`${field}.pattern`, `bad regular expression: ${(e as Error).message}`);
        }
        if (p.present !== undefined && typeof p.present !== 'boolean') fail(`${field}.present`, 'must be true or false');
        return { source: { variant: r.variant }, path: (p.path as string).replace(/\/+$/, ''), pattern: p.pattern as string, present: p.present !== false };
      }
      case 'all':
      case 'any': {
        const v = p[kind];
        if (!Array.isArray(v) || v.length === 0) fail(`${field}.${kind}`, 'must be a non-empty list of predicates');
        const items = (v as unknown[]).map((q, i) => predicate(q, `${field}.${kind}[${i}]`));
        return kind === 'all' ? { all: items } : { any: items };
      }
      case 'not':
        return { not: predicate(p.not, `${field}.not`) };
    }
  };

  if (o.observable === undefined) fail('observable', 'is required (the predicate that decides the claim)');
  const observable = predicate(o.observable, 'observable');

  // What is declared must be used: the declaration is what the planner builds and boots.
  const used = predicateRefs(observable);
  const usedPatches = patchRefs(observable);
  for (const [field, declared, key] of [
    ['variants', variants, 'variant'],
    ['abis', abis, 'abi'],
    ['probes', probes, 'probe'],
  ] as const) {
    for (const n of declared) {
      if (!used.some((r) => r[key] === n) && !(key === 'variant' && usedPatches.some((r) => r.variant === n))) {
        fail(field, `"${n}" is declared but the observable never refers to it`);
      }
    }
  }

  let expect: Expectation | undefined;
  if (o.expect !== undefined) expect = status(o.expect, ['confirmed', 'refuted'] as const, 'expect');

  return {
    id: id as string,
    file,
    author,
    ...(messageId !== undefined ? { messageId } : {}),
    date,
    claim,
    ...(note !== undefined ? { note } : {}),
    variants,
    abis,
    probes,
    observable,
    ...(expect !== undefined ? { expect } : {}),
  };
}

/** Parse and validate the text of one claim file. */
export function parseClaimText(text: string, ctx: ClaimContext): Claim {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw usageError(`claim ${ctx.file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseClaim(raw, ctx);
}

/** The directory holding a profile's claim files. */
export const claimsDir = (profile: Pick<Profile, 'dir'>): string => join(profile.dir, 'claims');

/**
 * Probe names a claim may use: the probes that exist, plus "<probe>_unpriv"
 * for those the profile also runs as an unprivileged user.
 */
export function claimProbeNames(knownProbes: readonly string[], unprivileged: readonly string[] = []): string[] {
  return [...knownProbes, ...unprivileged.filter((p) => knownProbes.includes(p)).map((p) => `${p}${UNPRIV_SUFFIX}`)];
}

/** A claim file that could not be loaded: not decided, listed with its one-line error. */
export interface InvalidClaim {
  /** Its "id" when that much could be read, else the file name without .json. */
  id: string;
  file: string;
  /** The one-line error, "claim <file>: <field>: <what>". */
  error: string;
}

export interface LoadedClaims {
  claims: Claim[];
  invalid: InvalidClaim[];
}

export interface LoadClaimsOptions {
  /** The claims directory; default: the profile's. */
  dir?: string;
  /** Each probe's declared cases (loadProbeCases()), to check the case names. */
  cases?: ProbeCaseTable;
}

/** The id a bad claim file is listed under: its own "id" if it has a usable one, else the file name. */
function invalidId(file: string, text: string): string {
  try {
    const o = JSON.parse(text) as unknown;
    if (isObj(o) && isStr(o.id) && ID_RE.test(o.id)) return o.id;
  } catch {
    // not JSON: the file name it is
  }
  return basename(file).replace(/\.json$/i, '');
}

/**
 * Every patches/<profile>/claims/*.json, sorted by file name: the valid
 * claims, and each bad file with its one-line error ([] and [] when the
 * profile has no claims directory). `knownProbes` is listProbes(); the
 * profile's `unprivileged` probes add their "<probe>_unpriv" names. A file
 * whose id another file already has is the bad one.
 */
export async function readClaims(
  profile: Pick<Profile, 'dir' | 'variants'> & { unprivileged?: readonly string[] },
  knownProbes: readonly string[],
  opts: LoadClaimsOptions = {},
): Promise<LoadedClaims> {
  const dir = opts.dir ?? claimsDir(profile);
  if (!existsSync(dir)) return { claims: [], invalid: [] };
  const probes = claimProbeNames(knownProbes, profile.unprivileged);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const out: LoadedClaims = { claims: [], invalid: [] };
  for (const f of files) {
    const file = join(dir, f);
    const text = await readFile(file, 'utf8');
    try {
      const c = parseClaimText(text, { file, variants: profile.variants.map((v) => v.name), probes, ...(opts.cases ? { cases: opts.cases } : {}) });
      const dup = out.claims.find((x) => x.id === c.id) ?? out.invalid.find((x) => x.id === c.id);
      if (dup) throw usageError(`claim ${file}: id: "${c.id}" is also the id of ${dup.file}`);
      out.claims.push(c);
    } catch (e) {
      if (!(e instanceof KseriesError) || e.exitCode !== ExitCode.USAGE) throw e;
      out.invalid.push({ id: invalidId(file, text), file, error: e.message });
    }
  }
  return out;
}

/** Like readClaims(), but the first bad file is a usage error (exit 2). */
export async function loadClaims(
  profile: Pick<Profile, 'dir' | 'variants'> & { unprivileged?: readonly string[] },
  knownProbes: readonly string[],
  opts: LoadClaimsOptions = {},
): Promise<Claim[]> {
  const { claims, invalid } = await readClaims(profile, knownProbes, opts);
  if (invalid[0]) throw usageError(invalid[0].error);
  return claims;
}

/** The claims named by `ids` (all when empty), in the order given. */
export function selectClaims(claims: readonly Claim[], ids: readonly string[]): Claim[] {
  return selectLoaded({ claims: [...claims], invalid: [] }, ids).claims;
}

/**
 * The valid and bad claims named by `ids` (all when empty), in the order
 * given. An id may name a bad file (by its id or file name).
 */
export function selectLoaded(loaded: LoadedClaims, ids: readonly string[]): LoadedClaims {
  if (ids.length === 0) return { claims: [...loaded.claims], invalid: [...loaded.invalid] };
  const out: LoadedClaims = { claims: [], invalid: [] };
  for (const id of ids) {
    const c = loaded.claims.find((x) => x.id === id);
    const bad = loaded.invalid.find((x) => x.id === id);
    if (c) out.claims.push(c);
    else if (bad) out.invalid.push(bad);
    else throw usageError(`no claim "${id}" (have: ${[...new Set([...loaded.claims, ...loaded.invalid].map((x) => x.id))].join(', ') || 'none'})`);
  }
  return out;
}
