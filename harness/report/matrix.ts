// The probe × ABI × variant matrix: pure, from parsed console results.
// Rows are the probe × ABI pairs some run reported (an --exec program's ABI is
// the guest arch that ran it), so a MISSING cell is one another variant has.
// A cell is marked when it differs from the base variant in the same column,
// and when compat differs from native32 for the same variant.
import { verdictFor } from '../console/verdict.ts';
import type { ConsoleResult, Finding, ProbeResult, Status } from '../model/results.ts';
import { ALL_ABIS } from '../model/arch.ts';
import { fingerprint } from '../model/results.ts';

export interface MatrixRun {
  variant: string;
  result: ConsoleResult;
}

export interface MatrixCell {
  probe: string;
  abi: string;
  variant: string;
  status: Status | 'MISSING';
  /** Status plus every case's status: what "differs" compares. */
  fingerprint: string;
  reason?: string;
  findings: Finding[];
  differsFromBase?: boolean;
  compatDiffersFromNative32?: boolean;
}

export interface Matrix {
  probes: string[];
  abis: string[];
  /** The probe × ABI pairs reported by at least one run, in display order. */
  rows: { probe: string; abi: string }[];
  variants: string[];
  base?: string;
  cells: MatrixCell[];
}

// compat sits next to native32, the reference it is compared with.
const ABI_ORDER = [...ALL_ABIS].sort();


/**
 * Several kernels' results for one variant (x86_64 for compat/native64, i386
 * for native32) as one. Its status climbs the same ladder as one console's
 * (so it agrees with exitCodeFor); INFRA, decided before any console, stands.
 */
export function mergeResults(parts: readonly ConsoleResult[]): ConsoleResult {
  const merged = {
    ktapFound: parts.every((p) => p.ktapFound),
    complete: parts.every((p) => p.complete),
    poweredOff: parts.every((p) => p.poweredOff),
    probes: parts.flatMap((p) => p.probes),
    findings: parts.flatMap((p) => p.findings),
  };
  return { status: parts.some((p) => p.status === 'INFRA') ? 'INFRA' : verdictFor(merged).status, ...merged };
}

export function buildMatrix(runs: readonly MatrixRun[], base?: string): Matrix {
  const order = (a: string) => (ABI_ORDER.includes(a) ? ABI_ORDER.indexOf(a) : ABI_ORDER.length);
  const byAbi = (a: string, b: string) => order(a) - order(b) || a.localeCompare(b);
  const seen = new Map<string, { probe: string; abi: string }>();
  for (const r of runs) for (const p of r.result.probes) seen.set(`${p.probe}\0${p.abi}`, { probe: p.probe, abi: p.abi });
  const rows = [...seen.values()].sort((a, b) => a.probe.localeCompare(b.probe) || byAbi(a.abi, b.abi));
  const probes = [...new Set(rows.map((r) => r.probe))];
  const abis = [...new Set(rows.map((r) => r.abi))].sort(byAbi);
  const variants = runs.map((r) => r.variant);
  const cells: MatrixCell[] = [];
  const find = (variant: string, probe: string, abi: string) => cells.find((c) => c.variant === variant && c.probe === probe && c.abi === abi);
  for (const r of runs) {
    for (const { probe, abi } of rows) {
      const p = r.result.probes.find((x) => x.probe === probe && x.abi === abi);
      cells.push(
        p
          ? { probe, abi, variant: r.variant, status: p.status, fingerprint: fingerprint(p), ...(p.reason ? { reason: p.reason } : {}), findings: p.findings }
          : { probe, abi, variant: r.variant, status: 'MISSING', fingerprint: 'MISSING', findings: [] },
      );
    }
  }
  for (const c of cells) {
    if (c.status === 'MISSING') continue;
    if (base && c.variant !== base) {
      const b = find(base, c.probe, c.abi);
      if (b && b.status !== 'MISSING') c.differsFromBase = b.fingerprint !== c.fingerprint;
    }
    if (c.abi === 'compat') {
      const n = find(c.variant, c.probe, 'native32');
      if (n && n.status !== 'MISSING') c.compatDiffersFromNative32 = n.fingerprint !== c.fingerprint;
    }
  }
  return { probes, abis, rows, variants, ...(base ? { base } : {}), cells };
}

/** Terminal/Markdown-friendly table: one row per reported probe × ABI, one column per variant. */
export function formatMatrix(m: Matrix): string[] {
  const label = (c: MatrixCell | undefined) => {
    if (!c) return '';
    const marks = `${c.differsFromBase ? ' Δbase' : ''}${c.compatDiffersFromNative32 ? ' ≠n32' : ''}${c.findings.length ? ' !' : ''}`;
    return `${c.status}${marks}`;
  };
  const header = ['probe', 'abi', ...m.variants];
  const rows = m.rows.map(({ probe: p, abi: a }) => [p, a, ...m.variants.map((v) => label(m.cells.find((c) => c.variant === v && c.probe === p && c.abi === a)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  const legend = [
    m.base && m.cells.some((c) => c.differsFromBase) ? `Δbase: differs from variant ${m.base} in the same row` : '',
    m.cells.some((c) => c.compatDiffersFromNative32) ? '≠n32: compat differs from native32' : '',
    m.cells.some((c) => c.findings.length > 0) ? '!: kernel-log findings attached' : '',
  ].filter(Boolean);
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ...legend.map((l) => `  ${l}`)];
}
