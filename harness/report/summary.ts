// Screen summaries: the KTAP result table and the elapsed-time line. Pure
// string formatting; the caller decides on colour (from isTTY) and prints.

import type { ConsoleResult, Finding, Status } from '../model/results.ts';
import { exitCodeFor } from '../console/parse-console.ts';
import { formatDuration } from '../util/duration.ts';

export interface SummaryOptions {
  /** Emit ANSI colours (only when writing to a terminal). */
  color?: boolean;
  /** Cut longer text to this many characters (default 120) so the table stays on one screen. */
  width?: number;
  /** At most this many failing cases under one probe (default 5). */
  maxCases?: number;
}

const SGR = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  magenta: '\x1b[35m',
} as const;

const STATUS_COLOR: Record<Status, string> = {
  PASS: SGR.green,
  FAIL: SGR.red,
  SKIP: SGR.yellow,
  TIMEOUT: SGR.magenta,
  CRASHED: SGR.bold + SGR.red,
  INFRA: SGR.bold + SGR.yellow,
  INTERRUPTED: SGR.bold + SGR.yellow,
};

type Paint = (codes: string, text: string) => string;
const painter = (color: boolean): Paint => (color ? (codes, text) => codes + text + SGR.reset : (_codes, text) => text);

function cut(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(1, width - 1)) + '…';
}

function counts(statuses: Status[]): string {
  const order: Status[] = ['PASS', 'FAIL', 'TIMEOUT', 'CRASHED', 'SKIP', 'INFRA'];
  return order
    .map(s => [s, statuses.filter(x => x === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
}

function findingRow(f: Finding, width: number): string {
  const where = f.line > 0 ? `line ${f.line}` : '-';
  const probe = f.probe ?? '(no probe)';
  return cut(`  ${where.padEnd(10)} ${f.kind.padEnd(12)} ${probe}: ${f.text}`, width);
}

/**
 * A one-screen table: a headline, one row per probe (status, id, reason),
 * failing cases under their probe with their first diagnostic line, every
 * finding with its probe and console line, and the overall status with the
 * exit code it maps to.
 */
export function formatResultTable(result: ConsoleResult, opts: SummaryOptions = {}): string[] {
  const paint = painter(opts.color ?? false);
  const width = opts.width ?? 120;
  const maxCases = opts.maxCases ?? 5;
  const out: string[] = [];

  const facts = [
    result.ktapFound ? (result.complete ? 'complete' : 'INCOMPLETE') : 'no KTAP output',
    result.poweredOff ? 'shut down' : 'no clean shutdown',
  ];
  const n = result.probes.length;
  const tally = n > 0 ? ` — ${counts(result.probes.map(p => p.status))}` : '';
  out.push(paint(SGR.bold, `KTAP results: ${n} probe${n === 1 ? '' : 's'}${tally}`) + ` · ${facts.join(' · ')}`);

  const idWidth = Math.max(0, ...result.probes.map(p => p.id.length));
  for (const p of result.probes) {
    const status = paint(STATUS_COLOR[p.status], p.status.padEnd(7));
    const kinds = [...new Set(p.findings.map(f => f.kind))];
    const mark = kinds.length > 0 ? `[! ${kinds.join(', ')}]` : '';
    const tail = [p.reason, mark].filter(Boolean).join('  ');
    // Cut the plain text, then paint, so colour codes are never cut in half.
    let row = cut(tail ? `${p.id.padEnd(idWidth)}  ${tail}` : p.id, width - 11);
    if (mark && row.endsWith(mark)) row = row.slice(0, -mark.length) + paint(SGR.red, mark);
    out.push(`  ${status}  ${row}`);
    const failing = p.cases.filter(c => c.status === 'FAIL');
    for (const c of failing.slice(0, maxCases)) {
      const evidence = c.diagnostics[0] ?? c.reason;
      out.push(cut(`             not ok ${c.name}${evidence ? ` — ${evidence}` : ''}`, width));
    }
    if (failing.length > maxCases) out.push(`             … ${failing.length - maxCases} more failing case(s)`);
  }

  if (result.findings.length > 0) {
    out.push(paint(SGR.bold, 'Findings:'));
    for (const f of result.findings) out.push(paint(SGR.red, findingRow(f, width)));
  }

  const code = exitCodeFor(result);
  out.push(`${paint(SGR.bold, 'Status:')} ${paint(STATUS_COLOR[result.status], result.status)} (exit ${code})`);
  return out;
}

/** "config 1.2s · build 3m12s · image 0.3s · boot 1.7s · total 3m15s" (total = sum of the stages). */
export function formatElapsed(stages: readonly { name: string; ms: number }[], opts: Pick<SummaryOptions, 'color'> = {}): string {
  const paint = painter(opts.color ?? false);
  const total = stages.reduce((sum, s) => sum + s.ms, 0);
  const parts = stages.map(s => `${s.name} ${formatDuration(s.ms)}`);
  parts.push(paint(SGR.bold, `total ${formatDuration(total)}`));
  return parts.join(paint(SGR.dim, ' · '));
}
