// Claim verdicts for people: a terminal table, a Markdown report to paste
// into a reply on the list, and claims.json. Pure.
import { DOCUMENTS } from '../report/documents.ts';
import { MEASURED_VS_EXPECTED, type ClaimEvaluation, type EvidenceRow } from './evaluate.ts';
import { isOwnClaim, type Claim, type ClaimVerdict, type InvalidClaim } from './spec.ts';

export interface PatchInfo {
  index: number;
  title: string;
  /** '' for a patch with no Message-ID (a profile's own patch file). */
  messageId: string;
  /** `git patch-id --stable` as posted and as applied. */
  patchIdPosted: string;
  patchIdApplied: string;
  /** How it applied: am, am-3way, fuzzy. */
  method: string;
}

export interface ClaimsReportContext {
  profile: string;
  kernelVersion: string;
  /** The base tree in words, e.g. "Debian linux-source-6.1 (6.1.158-1)" or "v5.9.1 tarball, sha256 ...". */
  base: string;
  variants: Record<string, { patches: PatchInfo[]; configHash: string; buildKey: string }>;
  compiler: string;
  qemu: string;
  accel: string;
  /** Exact commands that reproduce the report. */
  commands: string[];
  /** The tree as a reply names it: version and commit or tarball, no local path. */
  treeName: string;
  /** The command as run, each local path cut to its last component in <>. */
  publicCommand: string;
  /** Local directories (run dir, cache, tree) that the plain-text report names by role instead. */
  localDirs: { dir: string; name: string }[];
}

export const CLAIMS_SCHEMA = DOCUMENTS.claims.schema;

/** Was any variant built and booted (a variant asked only for series facts is just applied)? */
const anyBuilt = (context: ClaimsReportContext) => Object.values(context.variants).some((v) => v.buildKey !== '');

/** How the claims were decided, in one or two sentences. */
export function howDecided(context: ClaimsReportContext): string {
  return anyBuilt(context)
    ? 'Each claim was turned into probe outcomes and decided by booting the variants below in QEMU. A claim is only confirmed or refuted when every probe it needs ran cleanly.'
    : "Each claim is about the series itself and was decided from how the variants' patches went into the tree: nothing was built or booted.";
}

/** "fix: config 0123abcd4567, build 89ab…" or "fix: applied only, not built". */
export function variantHeading(name: string, v: ClaimsReportContext['variants'][string]): string {
  const how = v.buildKey === '' ? 'applied only, not built' : `config ${shortId(v.configHash)}, build ${shortId(v.buildKey)}`;
  return `${name}: ${how}${v.patches.length === 0 ? ', no patches' : ''}`;
}

/** The environment lines as label/value pairs, or none when nothing was built or booted. */
export function environmentPairs(context: ClaimsReportContext): [string, string][] {
  if (!anyBuilt(context)) return [];
  return [
    ['compiler', oneLine(context.compiler)],
    ['QEMU', oneLine(context.qemu)],
    ['accelerator', oneLine(context.accel)],
  ];
}

const VERDICTS: readonly ClaimVerdict[] = ['confirmed', 'refuted', 'inconclusive', 'infra-error'];

/** https://lore.kernel.org/r/<id>, '@' kept readable as b4 does. */
export function loreLink(messageId: string): string {
  return `https://lore.kernel.org/r/${encodeURIComponent(messageId).replace(/%40/g, '@')}`;
}

/** What the report says instead of a lore link for a claim that is kseries' own observation. */
export const OWN_OBSERVATION = "kseries' own observation";

export const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const shorten = (s: string, n: number) => {
  const t = oneLine(s);
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
};

/** Word-wrap `text` after `first` (the first line's prefix); later lines start with `indent`. */
export function wrap(first: string, text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = first;
  for (const w of oneLine(text).split(' ')) {
    if (w === '') continue;
    const sep = line === first || line === indent ? '' : ' ';
    if (line.length + sep.length + w.length > width && line !== first && line !== indent) {
      out.push(line);
      line = indent + w;
    } else {
      line += sep + w;
    }
  }
  out.push(line);
  return out.map((l) => l.trimEnd());
}

export type VerdictCounts = Record<ClaimVerdict, number> & { unexpected: number };

export function countVerdicts(evaluations: readonly ClaimEvaluation[]): VerdictCounts {
  const n: VerdictCounts = { confirmed: 0, refuted: 0, inconclusive: 0, 'infra-error': 0, unexpected: 0 };
  for (const e of evaluations) {
    n[e.verdict]++;
    if (e.unexpected) n.unexpected++;
  }
  return n;
}

/** Variant names with base first, the others in their order. */
export const baseFirst = (names: readonly string[]): string[] => (names.includes('base') ? ['base', ...names.filter((v) => v !== 'base')] : [...names]);

/** The variants of the environment section: those the evidence named (base first), then the rest. */
export function variantNames(context: ClaimsReportContext, evidenceOrder: readonly string[]): string[] {
  const order = baseFirst(evidenceOrder);
  return [...order.filter((v) => Object.hasOwn(context.variants, v)), ...Object.keys(context.variants).filter((v) => !order.includes(v))];
}

/** " (as expected)", " (UNEXPECTED: expected X)" or " (expected: X)" after a verdict; '' without `expect`. */
export function expectationNote(c: Claim | undefined, e: ClaimEvaluation): string {
  if (c?.expect === undefined) return '';
  if (e.unexpected === undefined) return ` (expected: ${c.expect})`;
  return e.unexpected ? ` (UNEXPECTED: expected ${c.expect})` : ' (as expected)';
}

/** "4 confirmed", "1 refuted", "1 unexpected", "1 invalid claim file (not decided)". */
export function countWords(evaluations: readonly ClaimEvaluation[], invalid: number): string[] {
  const n = countVerdicts(evaluations);
  const counts = VERDICTS.filter((v) => n[v] > 0).map((v) => `${n[v]} ${v}`);
  if (n.unexpected > 0) counts.push(`${n.unexpected} unexpected`);
  if (invalid > 0) counts.push(`${invalid} invalid claim file${invalid === 1 ? '' : 's'} (not decided)`);
  return counts;
}

const TERMINAL_WIDTH = 120;
export const claimOf = (claims: readonly Claim[], id: string): Claim | undefined => claims.find((c) => c.id === id);
const verdictWord = (e: ClaimEvaluation) => `${e.verdict}${e.unexpected ? ' UNEXPECTED' : ''}`;

const INVALID = 'invalid';

/**
 * One terminal line per claim: id, verdict (UNEXPECTED when it differs from
 * `expect`), author, short claim; then one per bad claim file: id, "invalid"
 * and its error in full.
 */
export function formatVerdictTable(evaluations: readonly ClaimEvaluation[], claims: readonly Claim[], invalid: readonly InvalidClaim[] = []): string[] {
  const idW = Math.max(0, ...evaluations.map((e) => e.id.length), ...invalid.map((x) => x.id.length));
  const vW = Math.max(0, ...evaluations.map((e) => verdictWord(e).length), ...(invalid.length > 0 ? [INVALID.length] : []));
  return [
    ...evaluations.map((e) => {
      const c = claimOf(claims, e.id);
      const head = `${e.id.padEnd(idW)}  ${verdictWord(e).padEnd(vW)}  `;
      const who = c ? `${c.author}: ` : '';
      const room = Math.max(40, TERMINAL_WIDTH - head.length - who.length);
      return `${head}${who}${c ? shorten(c.claim, room) : ''}`.trimEnd();
    }),
    ...invalid.map((x) => `${x.id.padEnd(idW)}  ${INVALID.padEnd(vW)}  ${x.error}`),
  ];
}

/** Terminal detail for one claim: the reason and each evidence row with its lines. */
export function formatEvaluation(e: ClaimEvaluation): string[] {
  const out = [`${e.id}: ${verdictWord(e)}: ${e.reason}`];
  for (const r of e.evidence.filter((x) => !x.context)) {
    out.push(`  ${rowLabel(r)} on ${r.variant}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    for (const l of r.lines) out.push(`    # ${l}`);
    for (const f of r.findings) out.push(`    ! ${f}`);
  }
  return out;
}

// --- Markdown ----------------------------------------------------------------------

export const rowLabel = (r: Pick<EvidenceRow, 'probe' | 'abi' | 'case' | 'kmsg' | 'patch' | 'source'>) =>
  r.source !== undefined
    ? `source ${r.source}`
    : r.patch !== undefined
    ? `patch ${r.patch} as applied`
    : `${r.probe}:${r.abi}${r.case !== undefined ? ` ${r.case}` : ''}${r.kmsg !== undefined ? ` kernel log /${r.kmsg}/` : ''}`;
const mdCell = (s: string) => s.replace(/\|/g, '\\|');

/** "setup_sqpoll: ret=-1 errno=22 EINVAL (Invalid argument)" → "ret=-1 errno=22 EINVAL". */
export function compactLine(line: string, caseName?: string, max = 40): string {
  let l = line;
  if (caseName !== undefined && l.startsWith(`${caseName}: `)) l = l.slice(caseName.length + 2);
  l = l.replace(/^(.*\berrno=\d+ [A-Z0-9_]+) \([^)]*\)$/, '$1');
  // Too long: the measured value and its expected one are what decide ("record_size=24 (expected 16)").
  const measured = MEASURED_VS_EXPECTED.exec(l);
  if (l.length > max && measured) l = measured[0];
  return shorten(l, max);
}

function cellFor(r: EvidenceRow | undefined): string {
  if (!r) return '';
  const first = r.lines[0];
  if (r.case === undefined) {
    // Probe rows: the first line lists the cases that did not pass.
    return first !== undefined && !first.startsWith('all ') ? `${r.status} ${shorten(first, 40)}` : r.status;
  }
  return first !== undefined && (/\b(?:ret|errno)=/.test(first) || MEASURED_VS_EXPECTED.test(first)) ? `${r.status} ${compactLine(first, r.case)}` : r.status;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)];
}

/** The deciding lines of each variant side by side: one row per probe/case, one column per variant. */
export function evidenceTable(evidence: readonly EvidenceRow[]): string[] {
  const variants: string[] = [];
  const keys: string[] = [];
  for (const r of evidence) {
    if (!variants.includes(r.variant)) variants.push(r.variant);
    if (!keys.includes(rowLabel(r))) keys.push(rowLabel(r));
  }
  const cols = baseFirst(variants);
  const rows = keys.map((k) => [k, ...cols.map((v) => cellFor(evidence.find((r) => r.variant === v && rowLabel(r) === k)))].map(mdCell));
  return table(['case', ...cols].map(mdCell), rows);
}

export const METHOD: Record<string, string> = { am: 'git am', 'am-3way': 'git am -3', fuzzy: 'fuzzy apply (patch)' };
export const shortId = (id: string) => (/^[0-9a-f]{13,}$/.test(id) ? id.slice(0, 12) : id);

function environment(context: ClaimsReportContext, variantOrder: readonly string[]): string[] {
  const out = [
    '## Environment',
    '',
    `- Profile: ${context.profile}`,
    `- Kernel: ${context.kernelVersion}`,
    ...wrap('- Base: ', context.base, '  '),
    ...environmentPairs(context).map(([k, v]) => `- ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`),
    '',
    'Variants (config hash, build key, applied patches with patch-ids):',
    '',
  ];
  for (const name of variantNames(context, variantOrder)) {
    const v = context.variants[name]!;
    out.push(`- ${variantHeading(name, v)}`);
    for (const p of v.patches) {
      out.push(...wrap(`  ${p.index}. `, p.title, '     '));
      const ids =
        p.patchIdPosted === p.patchIdApplied
          ? `patch-id ${shortId(p.patchIdPosted)}`
          : `patch-id ${shortId(p.patchIdPosted)} as posted, ${shortId(p.patchIdApplied)} as applied`;
      if (p.messageId) out.push(`     <${p.messageId}>`);
      out.push(...wrap('     ', `${METHOD[p.method] ?? p.method}; ${ids}`, '     '));
    }
  }
  return out;
}

export function formatMarkdownReport(evaluations: readonly ClaimEvaluation[], claims: readonly Claim[], context: ClaimsReportContext, invalid: readonly InvalidClaim[] = []): string {
  const counts = countWords(evaluations, invalid.length);
  const out: string[] = [
    `# Review claims checked with kseries: ${context.profile}`,
    '',
    ...wrap('', `${evaluations.length} claim${evaluations.length === 1 ? '' : 's'} on Linux ${context.kernelVersion} (${oneLine(context.base)}).`, ''),
    `Verdicts: ${counts.join(', ') || 'none'}.`,
    '',
    ...wrap('', howDecided(context), ''),
    '',
  ];
  const variantOrder: string[] = [];
  evaluations.forEach((e, i) => {
    const c = claimOf(claims, e.id);
    out.push(`## ${i + 1}. ${e.id}: ${e.verdict.toUpperCase()}${e.unexpected ? ' (UNEXPECTED)' : ''}`, '');
    if (c) {
      if (isOwnClaim(c) || c.messageId === undefined) {
        out.push(`- Said by: ${OWN_OBSERVATION}, ${c.date}`);
      } else {
        out.push(`- Said by: ${c.author}, ${c.date}`);
        out.push(`- Message-ID: <${c.messageId}>`);
        out.push(`  ${loreLink(c.messageId)}`);
      }
      out.push(...wrap('- Claim (in our words): ', c.claim, '  '));
      if (c.note) out.push(...wrap('- Note: ', c.note, '  '));
    }
    out.push(`- Verdict: ${e.verdict}${expectationNote(c, e)}`);
    out.push(...wrap('- Why: ', e.reason, '  '), '');
    if (e.evidence.length > 0) {
      out.push(...evidenceTable(e.evidence), '');
      const withLines = e.evidence.filter((r) => !r.context && (r.lines.length > 0 || r.reason || r.findings.length > 0));
      if (withLines.length > 0) {
        out.push('Probe lines:', '');
        for (const r of withLines) {
          out.push(...wrap(`    ${r.variant}, ${rowLabel(r)}: ${r.status} `, r.reason ? `(${r.reason})` : '', '      '));
          for (const l of r.lines) out.push(`      # ${l}`);
          for (const f of r.findings) out.push(`      ! ${f}`);
        }
        out.push('');
      }
    }
    for (const r of e.evidence) if (!variantOrder.includes(r.variant)) variantOrder.push(r.variant);
  });
  if (invalid.length > 0) {
    out.push('## Claim files not decided', '', 'These files could not be loaded; fix them and run again:', '');
    for (const x of invalid) out.push(...wrap(`- ${x.id}: `, x.error, '  '));
    out.push('');
  }
  out.push(...environment(context, variantOrder), '');
  out.push('## Reproduce', '');
  for (const cmd of context.commands) out.push(`    ${cmd}`);
  out.push('');
  return out.join('\n');
}

// --- claims.json --------------------------------------------------------------------

export interface ClaimsJson {
  kind: typeof DOCUMENTS.claims.kind;
  schema: typeof CLAIMS_SCHEMA;
  profile: string;
  kernelVersion: string;
  base: string;
  compiler: string;
  qemu: string;
  accel: string;
  commands: string[];
  variants: ClaimsReportContext['variants'];
  /** `invalid` counts the bad claim files. */
  summary: VerdictCounts & { invalid: number };
  /** A lore link for a claim from the list; `own: true` instead for kseries' own observation. */
  claims: (Omit<Claim, 'file'> & { file: string; lore?: string; own?: true } & Omit<ClaimEvaluation, 'id'>)[];
  /** Claim files that could not be loaded, each with its one-line error: not decided. */
  invalid: InvalidClaim[];
}

export function toClaimsJson(evaluations: readonly ClaimEvaluation[], claims: readonly Claim[], context: ClaimsReportContext, invalid: readonly InvalidClaim[] = []): ClaimsJson {
  return {
    kind: DOCUMENTS.claims.kind,
    schema: CLAIMS_SCHEMA,
    profile: context.profile,
    kernelVersion: context.kernelVersion,
    base: context.base,
    compiler: context.compiler,
    qemu: context.qemu,
    accel: context.accel,
    commands: context.commands,
    variants: context.variants,
    summary: { ...countVerdicts(evaluations), invalid: invalid.length },
    claims: evaluations.map((e) => {
      const c = claimOf(claims, e.id);
      if (!c) throw new Error(`internal: no claim for evaluation ${e.id}`);
      const { id: _id, ...verdict } = e;
      return { ...c, ...(c.messageId !== undefined && !isOwnClaim(c) ? { lore: loreLink(c.messageId) } : { own: true as const }), ...verdict };
    }),
    invalid: invalid.map((x) => ({ ...x })),
  };
}
