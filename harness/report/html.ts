// One self-contained static HTML page (inline CSS, no script, no external
// resource) to look at: the probe × ABI × variant matrix with coloured cells,
// the claims with their evidence, the prefix line of a bisection. Pure.
import type { Matrix, MatrixCell } from './matrix.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.PASS, .good { background: #cdeccd; } td.FAIL, .bad { background: #f6c6c6; }
td.SKIP, .skip { background: #eee; color: #555; } td.CRASHED, td.TIMEOUT { background: #f3a0a0; font-weight: bold; }
td.INFRA, td.MISSING, .untested { background: #fff; color: #888; }
td.confirmed { background: #cdeccd; } td.refuted { background: #f6dca0; }
td.inconclusive, td.infra-error { background: #eee; color: #555; }
.mark { font-size: .8em; margin-left: .4em; color: #333; }
.unexpected { color: #b00000; font-weight: bold; }
pre, code { font: 12px/1.35 ui-monospace, monospace; }
.prefixes { display: flex; gap: 4px; margin: .5em 0; }
.prefixes div { width: 3.2em; padding: .3em 0; text-align: center; border: 1px solid #999; font-size: .85em; }
.prefixes .first { outline: 3px solid #b00000; }
.meta { color: #555; }
`;

/** A page with a title, a line of context under it, and sections of ready HTML. */
export function htmlPage(title: string, subtitle: string, sections: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">${esc(subtitle)}</p>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

function cellHtml(c: MatrixCell | undefined): string {
  if (!c) return '<td class="MISSING"></td>';
  const marks = [c.differsFromBase ? 'Δbase' : '', c.compatDiffersFromNative32 ? '≠n32' : '', c.findings.length ? '!' : ''].filter(Boolean);
  const title = [c.fingerprint, c.reason ?? '', ...c.findings.map((f) => f.text)].filter(Boolean).join('\n');
  return `<td class="${esc(c.status)}" title="${esc(title)}">${esc(c.status)}${marks.length ? `<span class="mark">${esc(marks.join(' '))}</span>` : ''}</td>`;
}

/** The matrix as a table: a row per probe × ABI, a column per variant, cells coloured by status. */
export function matrixSection(m: Matrix): string {
  const head = `<tr><th>probe</th><th>ABI</th>${m.variants.map((v) => `<th>${esc(v)}</th>`).join('')}</tr>`;
  const rows = m.rows.map(({ probe, abi }) => `<tr><td>${esc(probe)}</td><td>${esc(abi)}</td>${m.variants.map((v) => cellHtml(m.cells.find((c) => c.variant === v && c.probe === probe && c.abi === abi))).join('')}</tr>`);
  const legend = [m.base ? `Δbase: differs from variant ${m.base} in the same row` : '', '≠n32: compat differs from native32', '!: kernel-log findings attached'].filter(Boolean);
  return ['<h2>Probe × ABI × variant</h2>', '<table class="matrix">', head, ...rows, '</table>', `<p class="meta">${legend.map(esc).join(' · ')}</p>`].join('\n');
}

export interface ClaimHtml {
  id: string;
  verdict: string;
  unexpected?: boolean;
  who: string;
  claim: string;
  reason: string;
  /** [row label, variant, status and deciding line] */
  evidence: [string, string, string][];
}

/** The claims: a verdict table, then each claim with its evidence. */
export function claimsSection(claims: readonly ClaimHtml[]): string {
  const table = [
    '<h2>Claims</h2>',
    '<table class="claims"><tr><th>claim</th><th>verdict</th><th>said by</th><th>claim</th></tr>',
    ...claims.map((c) => `<tr><td>${esc(c.id)}</td><td class="${esc(c.verdict)}">${esc(c.verdict)}${c.unexpected ? ' <span class="unexpected">UNEXPECTED</span>' : ''}</td><td>${esc(c.who)}</td><td>${esc(c.claim)}</td></tr>`),
    '</table>',
  ];
  const detail = claims.map((c) =>
    [
      `<h2 id="${esc(c.id)}">${esc(c.id)}: ${esc(c.verdict)}</h2>`,
      `<p>${esc(c.reason)}</p>`,
      '<table class="evidence"><tr><th>probe / case</th><th>variant</th><th>seen</th></tr>',
      ...c.evidence.map(([row, v, seen]) => `<tr><td>${esc(row)}</td><td>${esc(v)}</td><td class="${esc(seen.split(' ')[0] ?? '')}"><code>${esc(seen)}</code></td></tr>`),
      '</table>',
    ].join('\n'),
  );
  return [...table, ...detail].join('\n');
}

export interface PrefixStep {
  k: number;
  state: 'good' | 'bad' | 'skip' | 'untested';
}

/** The prefix line 0..N of a bisection as boxes (good, bad, skipped, untested), the first bad one outlined. */
export function bisectSection(n: number, steps: readonly PrefixStep[], firstBad: number | undefined, describe: (k: number) => string): string {
  const boxes = Array.from({ length: n + 1 }, (_, k) => {
    const s = steps.find((x) => x.k === k)?.state ?? 'untested';
    return `<div class="${s}${k === firstBad ? ' first' : ''}" title="${esc(`${describe(k)}: ${s}`)}">${k}</div>`;
  });
  return ['<h2>Prefixes of the series</h2>', `<div class="prefixes">${boxes.join('')}</div>`, `<p class="meta">0 is the base; green good, red bad, grey skipped, white not tested${firstBad !== undefined ? `; outlined: the first bad prefix, ${esc(describe(firstBad))}` : ''}</p>`].join('\n');
}
