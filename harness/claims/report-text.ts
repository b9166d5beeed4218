// claims.txt: the verdicts as plain text for a reply on the list. At most 72
// columns, no Markdown tables, evidence as indented aligned columns, lore
// links, and no local path: the tree is named by version and commit, and the
// run dir, cache and tree by their role. Pure.
import { hideLocalDirs, labelled, wrap, WIDTH } from '../report/text.ts';
import type { ClaimEvaluation, EvidenceRow } from './evaluate.ts';
import { baseFirst, claimOf, compactLine, countWords, environmentPairs, expectationNote, howDecided, loreLink, METHOD, oneLine, OWN_OBSERVATION, rowLabel, shortId, variantHeading, variantNames, type ClaimsReportContext } from './report.ts';
import { isOwnClaim, type Claim, type InvalidClaim } from './spec.ts';

export { hideLocalDirs, publicCommand } from '../report/text.ts';

/** A link is never broken: in the column after the labels when it fits, else further left. */
function linkLine(url: string, col: number): string {
  return `${' '.repeat(col + url.length <= WIDTH ? col : Math.max(0, Math.min(3, WIDTH - url.length)))}${url}`;
}

/** What one side of an evidence row says: its status and its first deciding line. */
function side(r: EvidenceRow): string {
  const first = r.lines[0];
  const line = first === undefined || (r.case === undefined && first.startsWith('all ')) ? '' : ` ${compactLine(first, r.case, 200)}`;
  return `${r.status}${line}${r.reason ? ` (${oneLine(r.reason)})` : ''}`;
}

/** Each probe/case the claim reads, then its variants side by side in one aligned column. */
function evidenceText(evidence: readonly EvidenceRow[], hide: (s: string) => string): string[] {
  const keys = [...new Set(evidence.map(rowLabel))];
  const variants = baseFirst([...new Set(evidence.map((r) => r.variant))]);
  const w = Math.max(...variants.map((v) => v.length)) + 1;
  const out: string[] = [];
  for (const k of keys) {
    out.push(...wrap(`     ${k}`));
    for (const v of variants) {
      const r = evidence.find((x) => x.variant === v && rowLabel(x) === k);
      if (!r) continue;
      out.push(...labelled('       ', `${v}:`.padEnd(w), hide(side(r))));
      for (const f of r.findings) out.push(...labelled('       ', ' '.repeat(w), `! ${hide(f)}`));
    }
  }
  return out;
}

export function formatTextReport(evaluations: readonly ClaimEvaluation[], claims: readonly Claim[], context: ClaimsReportContext, invalid: readonly InvalidClaim[] = []): string {
  const hide = (s: string) => hideLocalDirs(s, context.localDirs);
  const counts = countWords(evaluations, invalid.length);
  const out: string[] = [
    ...wrap(`kseries claims: ${context.profile}`),
    ...wrap(`tree: ${context.treeName}`),
    ...wrap(`${evaluations.length} claim${evaluations.length === 1 ? '' : 's'}: ${counts.join(', ') || 'none'}`),
    '',
    ...wrap(howDecided(context), WIDTH, 0),
    '',
  ];
  const variantOrder: string[] = [];
  evaluations.forEach((e, i) => {
    const c = claimOf(claims, e.id);
    out.push(...wrap(`${i + 1}. ${e.id}: ${e.verdict.toUpperCase()}${expectationNote(c, e)}`, WIDTH, 3));
    if (c) {
      const own = isOwnClaim(c) || c.messageId === undefined;
      out.push(...labelled('   ', 'said by:', own ? `${OWN_OBSERVATION}, ${c.date}` : `${c.author}, ${c.date}`));
      if (!own) out.push(linkLine(loreLink(c.messageId!), 12));
      out.push(...labelled('   ', 'claim:  ', oneLine(c.claim)));
      if (c.note) out.push(...labelled('   ', 'note:   ', oneLine(c.note)));
    }
    out.push(...labelled('   ', 'why:    ', hide(oneLine(e.reason))));
    if (e.evidence.length > 0) out.push('   evidence:', ...evidenceText(e.evidence, hide));
    out.push('');
    for (const r of e.evidence) if (!variantOrder.includes(r.variant)) variantOrder.push(r.variant);
  });
  if (invalid.length > 0) {
    out.push('claim files not decided (fix them and run again):');
    for (const x of invalid) out.push(...labelled('  ', `${x.id}:`, hide(oneLine(x.error))));
    out.push('');
  }
  const env = environmentPairs(context);
  if (env.length > 0) {
    out.push('environment:');
    for (const [k, v] of env) out.push(...labelled('  ', `${k}:`.padEnd(12), hide(v)));
    out.push('');
  }
  out.push('variants (config hash, build key, patches as applied):');
  for (const name of variantNames(context, variantOrder)) {
    const v = context.variants[name]!;
    out.push(...wrap(`  ${variantHeading(name, v)}`, WIDTH, 4));
    for (const p of v.patches) {
      out.push(...labelled('   ', `${String(p.index).padStart(2)}.`, oneLine(p.title)));
      if (p.messageId) out.push(...wrap(`       <${p.messageId}>`));
      const ids = p.patchIdPosted === p.patchIdApplied ? `patch-id ${shortId(p.patchIdPosted)}` : `patch-id ${shortId(p.patchIdPosted)} as posted, ${shortId(p.patchIdApplied)} as applied`;
      out.push(...wrap(`       ${METHOD[p.method] ?? p.method}; ${ids}`, WIDTH, 0));
    }
  }
  out.push('', 'reproduce:', ...wrap(`  ${hide(context.publicCommand)}`, WIDTH, 4), '');
  return out.join('\n');
}
