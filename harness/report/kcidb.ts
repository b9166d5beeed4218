// A run as KernelCI's report format, KCIDB I/O v5.3: a checkout per source
// state (base plus patchset), a build per kernel, a test per probe × ABI and
// per case, with dotted paths. Pure: the caller hashes the patch files.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { ConsoleResult, Status } from '../model/results.ts';
import { sha256 } from '../util/hash.ts';

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;
const ORIGIN = 'kseries';

export interface KcidbRun {
  variant: string;
  arch: string;
  result: ConsoleResult;
  /** The identity of the sources built (a git tree hash with the patches applied). */
  sourceIdentity: string;
  buildKey: string;
  compiler: string;
  /** The tree in words ("Debian linux-source-6.1 ..."), for git_commit_name. */
  tree: string;
  baseCommit?: string;
  /** The patch files applied, in order, with their sha256 (the run dir's patches/). */
  patches: { path: string; sha256: string }[];
  /** The Message-ID of the first patch, when it came from a list. */
  messageId?: string;
  buildSeconds?: number;
  accel: string;
}

/** "sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64", or '' for no patches (KCIDB's definition). */
export function patchsetHash(fileHashes: readonly string[]): string {
  // Plain sha256 of the bytes (util/hash's sha256 separates its parts, which KCIDB's hash does not).
  return fileHashes.length === 0 ? '' : createHash('sha256').update(fileHashes.map((h) => `${h}\n`).join('')).digest('hex');
}

/** KCIDB's statuses: a crashed kernel is the tested code failing; a hang is an error; a probe not run is missed. */
export function kcidbStatus(s: Status | 'MISSING'): 'PASS' | 'FAIL' | 'ERROR' | 'MISS' | 'SKIP' {
  if (s === 'PASS' || s === 'SKIP') return s;
  if (s === 'FAIL' || s === 'CRASHED') return 'FAIL';
  if (s === 'TIMEOUT') return 'ERROR';
  return 'MISS';
}

/** One dotted-path component: letters, digits, _ and -. */
const part = (s: string) => s.replace(/[^a-zA-Z0-9_-]+/g, '_') || '_';
const excerpt = (lines: readonly string[]) => {
  const text = lines.join('\n');
  return text.length > 16000 ? `${text.slice(0, 16000)}\n[...]` : text;
};

export function kcidbDocument(runs: readonly KcidbRun[]): Record<string, unknown> {
  const checkouts = new Map<string, Record<string, unknown>>();
  const builds: Record<string, unknown>[] = [];
  const tests: Record<string, unknown>[] = [];
  for (const r of runs) {
    const checkoutId = `${ORIGIN}:${sha256(r.sourceIdentity).slice(0, 24)}`;
    if (!checkouts.has(checkoutId)) {
      checkouts.set(checkoutId, {
        id: checkoutId,
        origin: ORIGIN,
        ...(r.baseCommit && /^[0-9a-f]{40}$/.test(r.baseCommit) ? { git_commit_hash: r.baseCommit } : {}),
        git_commit_name: r.tree,
        patchset_hash: patchsetHash(r.patches.map((p) => p.sha256)),
        ...(r.patches.length > 0 ? { patchset_files: r.patches.map((p) => ({ name: p.path.split('/').pop()!, url: pathToFileURL(p.path).href })) } : {}),
        ...(r.messageId && /^[^\s<>@]+@[^\s<>@]+$/.test(r.messageId) ? { message_id: r.messageId } : {}),
        comment: `kseries variant ${r.variant}`,
        valid: true,
      });
    }
    const buildId = `${ORIGIN}:${r.buildKey}`;
    builds.push({
      id: buildId,
      origin: ORIGIN,
      checkout_id: checkoutId,
      architecture: r.arch,
      compiler: r.compiler,
      config_name: `kseries ${r.variant}`,
      ...(r.buildSeconds !== undefined ? { duration: r.buildSeconds } : {}),
      status: 'PASS',
    });
    const environment = { comment: `QEMU ${r.accel}, ${r.arch} kernel` };
    for (const p of r.result.probes) {
      const path = `kseries.${part(p.probe)}.${part(p.abi)}`;
      tests.push({
        id: `${buildId}:${p.probe}:${p.abi}`, origin: ORIGIN, build_id: buildId, path, environment, status: kcidbStatus(p.status),
        ...(p.reason || p.findings.length ? { log_excerpt: excerpt([...(p.reason ? [p.reason] : []), ...p.findings.map((f) => f.text)]) } : {}),
      });
      for (const c of p.cases) {
        tests.push({
          id: `${buildId}:${p.probe}:${p.abi}:${c.name}`, origin: ORIGIN, build_id: buildId, path: `${path}.${part(c.name)}`, environment, status: kcidbStatus(c.status),
          ...(c.diagnostics.length || c.reason ? { log_excerpt: excerpt([...c.diagnostics, ...(c.reason ? [c.reason] : [])]) } : {}),
        });
      }
    }
  }
  return { version: { ...KCIDB_VERSION }, checkouts: [...checkouts.values()], builds, tests };
}

/** A decided or undecided claim, as kcidbClaims needs it. */
export interface KcidbClaim {
  profile: string;
  id: string;
  author: string;
  claim: string;
  /** The mail that made it (absent for kseries' own observations). */
  reportUrl?: string;
  verdict: 'confirmed' | 'refuted' | 'inconclusive' | 'infra-error';
  reason: string;
  /** The probe (and case) rows that decided it; series-fact rows have no probe. */
  evidence: readonly { variant: string; abi: string; probe: string; case?: string; status: string; line?: string }[];
}

/**
 * Claims as KCIDB issues and incidents: each claim is an issue (its mail as
 * report_url, the claim as its comment, the verdict in misc), and each probe
 * row of a decided claim's evidence is an incident on that test of `runs`
 * (present when the claim was confirmed, absent when refuted). Undecided
 * claims and rows of the series (decided without a test) get no incident.
 */
export function kcidbClaims(claims: readonly KcidbClaim[], runs: readonly KcidbRun[]): { issues: Record<string, unknown>[]; incidents: Record<string, unknown>[] } {
  const issues: Record<string, unknown>[] = [];
  const incidents: Record<string, unknown>[] = [];
  for (const c of claims) {
    const issueId = `${ORIGIN}:claim:${c.profile}:${c.id}`;
    issues.push({
      id: issueId, version: 1, origin: ORIGIN,
      ...(c.reportUrl ? { report_url: c.reportUrl } : {}),
      report_subject: c.claim.length > 200 ? `${c.claim.slice(0, 199)}…` : c.claim,
      culprit: { code: true, tool: false, harness: false },
      comment: `${c.author}: ${c.claim}`,
      misc: { verdict: c.verdict, reason: c.reason },
    });
    if (c.verdict !== 'confirmed' && c.verdict !== 'refuted') continue;
    let n = 0;
    for (const row of c.evidence) {
      if (row.probe === '') continue;
      const run = runs.find((r) => r.variant === row.variant && r.result.probes.some((p) => p.probe === row.probe && p.abi === row.abi));
      if (!run) continue;
      const probe = run.result.probes.find((p) => p.probe === row.probe && p.abi === row.abi)!;
      const testId = `${ORIGIN}:${run.buildKey}:${row.probe}:${row.abi}${row.case !== undefined && probe.cases.some((x) => x.name === row.case) ? `:${row.case}` : ''}`;
      incidents.push({
        id: `${issueId}:${++n}`, origin: ORIGIN, issue_id: issueId, issue_version: 1, test_id: testId,
        present: c.verdict === 'confirmed',
        comment: `${row.variant} ${row.probe}:${row.abi}${row.case ? ` ${row.case}` : ''}: ${row.status}${row.line ? ` ${row.line}` : ''}`,
      });
    }
  }
  return { issues, incidents };
}
