// The review report in three forms: Markdown, plain text that fits 72 columns
// (for a reply on the list), and JSON. Pure: from a ReviewReport to text.
import { basename } from 'node:path';
import { documentHeader } from '../report/documents.ts';
import { formatDuration } from '../util/duration.ts';
import { describeChange } from './describe.ts';
import { labelled, wrap, WIDTH } from '../report/text.ts';
import type { CellChange, CellId, CellValue, PatchRef, ReviewReport, RevisionChange } from './review-types.ts';

type EvidenceCase = { name: string; status: string; evidence: string };
function casesOf(e: unknown): EvidenceCase[] {
  const c = (e as { cases?: unknown } | undefined)?.cases;
  return Array.isArray(c) ? (c as EvidenceCase[]) : [];
}

/**
 * The deciding cases between two sides: those whose status differs; when none does, those whose
 * evidence differs (at most `max`).
 */
export function differingCases(good: unknown, bad: unknown, max = 4): { name: string; good: string; bad: string }[] {
  const g = casesOf(good);
  const b = casesOf(bad);
  const names = [...new Set([...g, ...b].map((c) => c.name))];
  const show = (c?: EvidenceCase) => (c ? `${c.status}${c.evidence ? ` ${c.evidence}` : ''}` : '(absent)');
  const pairs = names.map((n) => ({ name: n, g: g.find((c) => c.name === n), b: b.find((c) => c.name === n) }));
  const byStatus = pairs.filter((x) => x.g?.status !== x.b?.status);
  const chosen = byStatus.length > 0 ? byStatus : pairs.filter((x) => show(x.g) !== show(x.b));
  return chosen.slice(0, max).map((x) => ({ name: x.name, good: show(x.g), bad: show(x.b) }));
}

const patchName = (p: PatchRef) => `${p.index}/${p.total} "${p.title}"`;
const cellChange = (c: CellChange) => `${c.cell}: ${describeChange(c.from, c.to)}`;

function changeHeadline(ch: RevisionChange): string {
  if (ch.status === 'found') return `first at patch ${patchName(ch.patch!)} <${ch.patch!.messageId}>`;
  if (ch.status === 'ambiguous') return `one of patches ${ch.candidates!.map((p) => p.index).join(', ')} (${ch.reason ?? 'not narrowed'})`;
  return `not bisected: ${ch.reason ?? 'undecided'}`;
}

/** Cells that differ from the base somewhere, or could not be compared. */
function interestingCells(r: ReviewReport): CellId[] {
  const base = r.table[0]!.values;
  return r.cells.filter((c) => r.table.some((row) => row.values[c]?.value !== base[c]?.value));
}

/** Short status for the summary table: P F S C T I, '*' when it differs from the base, '?' without a value. */
function mark(v: CellValue | undefined, base: CellValue | undefined): string {
  if (!v || v.value === undefined) return '?';
  const s = v.value.split(' ')[0]!;
  const letter = ({ PASS: 'P', FAIL: 'F', SKIP: 'S', CRASHED: 'C', TIMEOUT: 'T', INFRA: 'I', good: 'ok', bad: 'BAD' } as Record<string, string>)[s] ?? s.slice(0, 3);
  return base?.value !== undefined && v.value !== base.value ? `${letter}*` : letter;
}

/** r1, r2, ... for the reply diffs in the table's columns. */
function columnNames(r: ReviewReport): { name: string; label: string }[] {
  let i = 0;
  return r.table.map((row) => ({ name: row.variant, label: row.variant.startsWith('reply ') ? `r${++i}` : row.variant }));
}

function usageLine(r: ReviewReport): string {
  const u = r.usage;
  const what = r.plan.groups.includes('run') ? `${u.observations} checkouts tested` : `${u.newBuilds + u.cachedBuilds} builds (${u.newBuilds} new, ${u.cachedBuilds} cached), ${u.boots} boots`;
  return `used: ${what}, ${formatDuration(u.ms)}`;
}

export function formatPlan(p: ReviewReport['plan']): string[] {
  const kernel = !p.groups.includes('run');
  const per = Object.entries(p.bisectStepsPerChange).map(([rev, k]) => `v${rev} ≤${k}`).join(', ');
  return [
    `plan: ${p.variants.length} variants (${p.variants.join(', ')})`,
    kernel
      ? `  × ${p.groups.length} kernel(s) (${p.groups.join(', ')}): ${p.builds + p.cached} builds, ${p.cached} cached, ${p.builds} to build${p.maxBuilds !== undefined ? ` (--max-builds ${p.maxBuilds}: ${Math.min(p.builds, p.maxBuilds)} at most, the rest left out)` : ''}; ${p.boots} boots`
      : `  each checked out and tested with the --run commands`,
    `  then per change found, a bisect of up to ${per || '0'} middle prefixes${kernel ? ' per kernel' : ''}`,
    kernel
      ? `  estimate: ${formatDuration(p.estimateMs)} before the bisects (a cold build ${formatDuration(p.estimate.coldBuildMs)}, a seeded one ${formatDuration(p.estimate.seededBuildMs)}, a boot ${formatDuration(p.estimate.bootMs)}: medians of this cache's builds, else defaults)`
      : `  estimate: ${formatDuration(p.estimateMs)}`,
  ];
}

/** Plain text for a reply on the list: every line fits 72 columns. */
export function formatReviewText(r: ReviewReport): string {
  const L: string[] = [];
  const add = (s = '') => L.push(...wrap(s));
  add(`kseries review: "${r.title}"`);
  add(`thread: <${r.messageId}>`);
  add(`tree: ${r.tree}`);
  add(`tester: ${r.tester}`);
  add(`revisions: ${r.revisions.map((v) => `v${v.revision} (${v.incomplete ? 'incomplete' : `${v.patches.length} patches`})`).join(', ')}; reply diffs: ${r.replies.length}`);
  for (const v of r.revisions) {
    add();
    if (v.incomplete) {
      add(`v${v.revision}: left out: ${v.incomplete}`);
      continue;
    }
    add(`v${v.revision}: ${v.changes.length === 0 ? 'no change against the base' : `${v.changes.length} change(s) against the base`}`);
    for (const ch of v.changes) {
      add(`  - ${changeHeadline(ch)}`);
      for (const c of ch.cells) add(`    ${cellChange(c)}`);
      if (ch.firstBad) {
        for (const c of ch.cells) {
          const diff = differingCases(ch.base.evidence[c.cell], ch.firstBad.evidence[c.cell]);
          if (diff.length === 0) continue;
          const bad = `prefix ${ch.firstBad.prefix}:`;
          add(`    ${c.cell}, the deciding cases:`);
          for (const d of diff) {
            add(`      ${d.name}`);
            L.push(...labelled('        ', 'base:'.padEnd(bad.length), d.good));
            L.push(...labelled('        ', bad, d.bad));
          }
        }
      }
    }
  }
  add();
  add(`reply diffs: ${r.replies.length === 0 ? 'none' : ''}`);
  let i = 0;
  for (const x of r.replies) {
    const label = x.placement.status === 'applied' ? `r${++i}` : '-';
    const under = x.under ? `under v${x.under.revision}${x.under.patch !== undefined ? ` ${x.under.patch}/${r.revisions.find((v) => v.revision === x.under!.revision)?.patches.length ?? '?'}` : ' (cover)'}` : 'not under a revision';
    add(`  ${label} <${x.messageId}>`);
    add(`     ${x.from}, ${under}${x.port ? `; ported: ${basename(x.port)}` : ''}`);
    if (x.placement.status === 'applied') {
      add(`     applied onto ${x.placement.onto === 'series' ? `v${x.placement.revision} (its full series)` : 'the base'}${x.placement.tried.length ? ` (not onto ${x.placement.tried.map((t) => t.onto).join(', ')})` : ''}`);
      if (x.changes.length === 0) add(`     changes nothing the probes see${x.undecided.length ? ` (${x.undecided.length} cell(s) undecided)` : ''}`);
      for (const c of x.changes) add(`     ${cellChange(c)}`);
    } else {
      add(`     refused: ${x.placement.reason ?? 'it applies nowhere'}`);
    }
    for (const t of x.placement.status === 'refused' ? x.placement.tried : []) {
      add(`     ${t.onto}: ${t.reason}`);
      if (t.hunk) for (const h of t.hunk.split('\n').slice(0, 8)) add(`       ${h}`);
    }
  }
  if (r.comparisons.length > 0) {
    add();
    add('revisions compared:');
    for (const c of r.comparisons) add(`  - ${c.text}`);
  }
  add();
  const cells = interestingCells(r);
  const cols = columnNames(r);
  add(`summary: ${cells.length} of ${r.cells.length} cells differ from the base somewhere${cells.length ? ' (* differs, ? no value)' : ''}`);
  if (cells.length > 0) {
    const colW = Math.max(4, ...cols.map((c) => c.label.length + 1));
    const nameW = Math.min(WIDTH - cols.length * colW, Math.max(...cells.map((c) => c.length)) + 1);
    const cut = (s: string) => (s.length >= nameW ? s.slice(0, nameW - 2) + '… ' : s.padEnd(nameW));
    L.push(`${''.padEnd(nameW)}${cols.map((c) => c.label.padStart(colW)).join('')}`.trimEnd());
    for (const c of cells) {
      const base = r.table[0]!.values[c];
      L.push(`${cut(c)}${r.table.map((row) => mark(row.values[c], base).padStart(colW)).join('')}`);
    }
  }
  if (r.leftOut.length > 0) {
    add();
    add('not observed or left out:');
    for (const s of r.leftOut) add(`  - ${s}`);
  }
  add();
  add(usageLine(r));
  return L.join('\n') + '\n';
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;');

export function formatReviewMarkdown(r: ReviewReport): string {
  const L: string[] = [];
  L.push(`# kseries review: ${md(r.title)}`, '', `- thread: \`<${r.messageId}>\``, `- tree: ${md(r.tree)}`, `- tester: ${md(r.tester)}`, '');
  L.push('## Revisions', '');
  for (const v of r.revisions) {
    L.push(`### v${v.revision}${v.incomplete ? ' (left out)' : ` (${v.patches.length} patches)`}`, '');
    if (v.incomplete) {
      L.push(md(v.incomplete), '');
      continue;
    }
    if (v.changes.length === 0) L.push('No change against the base.', '');
    for (const ch of v.changes) {
      L.push(`- **${md(changeHeadline(ch))}**`);
      for (const c of ch.cells) L.push(`  - \`${c.cell}\`: ${md(describeChange(c.from, c.to))}`);
      if (ch.firstBad) {
        const rows = ch.cells.flatMap((c) => differingCases(ch.base.evidence[c.cell], ch.firstBad!.evidence[c.cell], 8).map((d) => `| \`${c.cell}\` | ${md(d.name)} | ${md(d.good)} | ${md(d.bad)} |`));
        if (rows.length > 0) L.push('', `  | cell | case | base | prefix ${ch.firstBad.prefix} (first bad${ch.lastGood ? `; last good ${ch.lastGood.prefix}` : ''}) |`, '  |---|---|---|---|', ...rows.map((x) => `  ${x}`));
      }
      L.push('');
    }
  }
  L.push('## Reply diffs', '');
  if (r.replies.length === 0) L.push('None in the thread.', '');
  let i = 0;
  for (const x of r.replies) {
    const label = x.placement.status === 'applied' ? `r${++i}: ` : '';
    L.push(`- ${label}\`<${x.messageId}>\` by ${md(x.from)}${x.under ? `, under v${x.under.revision}${x.under.patch !== undefined ? ` patch ${x.under.patch}` : ' (cover)'}` : ''}${x.port ? `, ported by ${md(basename(x.port))}` : ''}`);
    if (x.placement.status === 'applied') {
      L.push(`  - applied onto ${x.placement.onto === 'series' ? `v${x.placement.revision} (its full series)` : 'the base'}`);
      if (x.changes.length === 0) L.push('  - changes nothing the probes see');
      for (const c of x.changes) L.push(`  - \`${c.cell}\`: ${md(describeChange(c.from, c.to))}`);
    }
    for (const t of x.placement.tried) L.push(`  - not onto ${t.onto}: ${md(t.reason)}${t.hunk ? `\n\n    \`\`\`\n${t.hunk.split('\n').slice(0, 12).map((h) => `    ${h}`).join('\n')}\n    \`\`\`` : ''}`);
    if (x.placement.status === 'refused') L.push(`  - **refused**: ${md(x.placement.reason ?? '')}`);
  }
  L.push('');
  if (r.comparisons.length > 0) L.push('## Revisions compared', '', ...r.comparisons.map((c) => `- ${md(c.text)}`), '');
  const cells = interestingCells(r);
  const cols = columnNames(r);
  L.push('## Summary', '', `${cells.length} of ${r.cells.length} cells differ from the base somewhere.`, '');
  if (cells.length > 0) {
    L.push(`| cell | ${cols.map((c) => c.label).join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`);
    for (const c of cells) {
      const base = r.table[0]!.values[c];
      L.push(`| \`${c}\` | ${r.table.map((row) => (row.values[c]?.value !== undefined ? `${row.values[c]!.value !== base?.value ? '**' : ''}${md(row.values[c]!.value!)}${row.values[c]!.value !== base?.value ? '**' : ''}` : `? ${md(row.values[c]?.missing ?? '')}`)).join(' | ')} |`);
    }
    const replyCols = cols.filter((c) => c.label !== c.name);
    if (replyCols.length > 0) L.push('', ...replyCols.map((c) => `- ${c.label}: \`${c.name.replace(/^reply /, '')}\``));
    L.push('');
  }
  if (r.leftOut.length > 0) L.push('## Not observed or left out', '', ...r.leftOut.map((s) => `- ${md(s)}`), '');
  L.push('## Used', '', `- ${usageLine(r).replace(/^used: /, '')}`, ...formatPlan(r.plan).map((l) => `- ${md(l.trim())}`), '');
  return L.join('\n');
}

/** JSON: the report as is, with each cell's value and the evidence kept. */
export function reviewJson(r: ReviewReport): unknown {
  return { ...documentHeader('review'), ...r };
}
