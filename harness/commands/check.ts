// kseries check: a CI check for b4's review mode (b4.review-perpatch-check-cmd,
// b4.review-series-check-cmd). b4 pipes one RFC 2822 message to stdin: a
// patch, or the series' cover letter. kseries puts the series onto the tree
// up to that patch (all of it for a cover letter), runs the check in the
// applied tree, and prints the JSON array b4 reads:
//   [{ "tool", "status": "pass" | "warn" | "fail", "summary", "details"? }]
// Everything human goes to stderr; stdout holds the JSON alone. A check that
// could not run (no such Message-ID, a tree that is missing) is an error
// with exit 2 or 3 and no JSON, which b4 shows as a failure of the tool.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { PatchApplyReport } from '../apply/apply-types.ts';
import { commandJudge } from '../bisect/judge.ts';
import { CacheStore } from '../cache/store.ts';
import { resolveTree } from '../kernel/tree.ts';
import { parseMessage } from '../mail/mbox.ts';
import { parseSubject } from '../mail/subject.ts';
import { ExitCode, type ProbeCase } from '../model/results.ts';
import { claimLines } from '../claims/evaluate.ts';
import { readStdin } from '../util/proc.ts';
import { formatApplyReport } from '../report/apply-report.ts';
import { Progress } from '../run/progress.ts';
import { createRunDir } from '../run/rundir.ts';
import { KseriesError, usageError } from '../util/errors.ts';
import { variantPlanFrom, withPlanCheckout, type VariantPlan } from '../variant/plan.ts';
import { BASE_FRAGMENTS_DIR, bootOptions, buildAndBootFrom, configOptions, exitCodeCommand, mailSourceOptions, outOption, repeatable, treeOptions } from './options.ts';
import { checkFragments, checkProbes } from './validate.ts';
import { parseProbeSpec } from '../bisect/kernel-tester.ts';
import { archForAbi } from '../model/arch.ts';
import { runVariants } from '../run/variants-run.ts';
import { jsonText } from './output.ts';
import { treeFor } from './series-args.ts';

/** One result object of b4's check protocol. */
export interface CheckResult {
  tool: string;
  status: 'pass' | 'warn' | 'fail';
  summary: string;
  details?: string;
}

function builder(y: Argv) {
  return mailSourceOptions(bootOptions(configOptions(treeOptions(y))))
    .option('base', { type: 'string', group: 'Series:', describe: "revision of --tree to apply onto (default: the series' base-commit: when the tree has it, else HEAD)" })
    .option('run', { type: 'string', group: 'Check:', describe: 'run CMD in the applied tree: exit 0 pass, 1 fail, 125 warn (could not test)' })
    .option('probe', repeatable("build and boot the applied tree and run this probe, NAME[:ABI] (ABI default compat): a result per probe, fail unless it PASSes (warn on SKIP)", 'Check:'))
    .option('tool', { type: 'string', default: 'kseries', group: 'Check:', describe: "the name b4 shows (the results are '<tool>/apply' and '<tool>/run')" })
    .option('format', { choices: ['b4', 'patchwork'] as const, default: 'b4' as const, group: 'Check:', describe: "b4's JSON array, or Patchwork checks ({state, context, description}) from the same results" })
    .option('out', outOption('run directory: the mail, the results as check.json'));
}

type CheckArgs = ArgumentsCamelCase<Awaited<ReturnType<ReturnType<typeof builder>['parseAsync']>>>;

/** Patchwork's checks API: success/warning/fail, a context per tool (letters, digits, - only). */
export function patchworkChecks(results: readonly CheckResult[]): { state: 'success' | 'warning' | 'fail'; context: string; description: string }[] {
  const state = { pass: 'success', warn: 'warning', fail: 'fail' } as const;
  return results.map((r) => ({ state: state[r.status], context: r.tool.replace(/[^A-Za-z0-9-]+/g, '-'), description: r.summary.length > 255 ? `${r.summary.slice(0, 252)}...` : r.summary }));
}

/** How the patches went in, as one result: pass when every one went in by git am, warn for -3 or fuzz. */
export function applyResult(tool: string, reports: readonly PatchApplyReport[]): CheckResult {
  const rough = reports.filter((r) => r.method !== 'am');
  const details = formatApplyReport(reports).join('\n');
  const n = `${reports.length} patch${reports.length === 1 ? '' : 'es'}`;
  return rough.length === 0
    ? { tool: `${tool}/apply`, status: 'pass', summary: `${n} applied with git am`, details }
    : { tool: `${tool}/apply`, status: 'warn', summary: `${n} applied; ${rough.map((r) => `${r.index}/${r.total} needed ${r.method === 'am-3way' ? 'git am -3' : 'fuzz'}`).join(', ')}`, details };
}

/** Build and boot the series up to the patch, and say for each probe whether it passed. */
async function probeResults(a: CheckArgs, probes: { probe: string; abi: string }[], plan: VariantPlan, runDir: string, progress: Progress): Promise<CheckResult[]> {
  const out = await runVariants(
    {
      tree: treeFor({ ...a, allowMisplaced: false }),
      baseFragmentsDir: BASE_FRAGMENTS_DIR,
      extraFragments: a.fragment,
      ...buildAndBootFrom(a),
      runDir,
      probes: [...new Set(probes.map((p) => p.probe))],
      unprivileged: [],
      variants: [{ name: 'check', plan }],
      abis: [...new Set(probes.map((p) => p.abi))],
      adds: [],
      execs: [],
      execTimeoutSec: 60,
    },
    progress,
  );
  const applied = out.runs[0]?.record.applied ?? [];
  const results: CheckResult[] = [applyResult(a.tool, applied)];
  for (const { probe, abi } of probes) {
    const p = out.merged.probes.find((x) => x.probe === probe && x.abi === abi);
    const tool = `${a.tool}/${probe}:${abi}`;
    if (!p) {
      results.push({ tool, status: 'fail', summary: `${probe}:${abi} did not report (the boot ended ${out.merged.status})` });
      continue;
    }
    const notPass = p.cases.filter((c) => c.status !== 'PASS');
    // Each case with the line that decides it, chosen as the claims' evidence chooses it.
    const decides = (c: ProbeCase) => claimLines(c.diagnostics)[0];
    const details = p.cases.map((c) => `${c.status} ${c.name}${decides(c) ? `: ${decides(c)}` : ''}`).join('\n');
    const status: CheckResult['status'] = p.status === 'PASS' ? 'pass' : p.status === 'SKIP' ? 'warn' : 'fail';
    const what = notPass.length > 0 ? `; ${notPass.map((c) => `${c.name} ${c.status}`).join(', ')}` : '';
    results.push({ tool, status, summary: `${p.status}${p.reason ? ` (${p.reason})` : ''}${what}`, ...(details ? { details } : {}) });
  }
  return results;
}

async function checkHandler(a: CheckArgs): Promise<number> {
  const progress = new Progress(process.stderr, false);
  const raw = await readStdin();
  const mail = raw.length > 0 ? parseMessage(raw) : null;
  if (!mail) throw usageError('kseries check reads one mail on stdin (a patch or a cover letter, as b4 pipes it); got none with a Message-ID');
  const subject = parseSubject(mail.subject ?? '');
  // A patch N/M: the series up to it; a cover letter (0/M) or a lone patch: all of it.
  const select = subject.index !== undefined && subject.index > 0 ? `1-${subject.index}` : undefined;
  if (!a.run === (a.probe.length === 0)) throw usageError('give --run CMD or --probe NAME[:ABI] (repeatable), one of the two');
  const probes = a.probe.map(parseProbeSpec);
  if (probes.length > 0) {
    await checkProbes([...new Set(probes.map((p) => p.probe))]);
    await checkFragments([...new Set(probes.map((p) => join(BASE_FRAGMENTS_DIR, archForAbi(p.abi)!.fragment))), ...a.fragment]);
  }
  const runDir = await createRunDir(a.out);
  await mkdir(runDir, { recursive: true });
  // The mail itself is a source of the thread, beside what the user gave.
  const own = join(runDir, 'mail.mbox');
  await writeFile(own, Buffer.concat([Buffer.from('From kseries-check Thu Jan  1 00:00:00 1970\n'), raw, Buffer.from(raw.at(-1) === 0x0a ? '\n' : '\n\n')]));
  const plan = variantPlanFrom({
    series: mail.messageId,
    mbox: [own, ...a.mbox], maildir: a.maildir, inbox: a.inbox, lore: a.lore, cache: a.cache,
    allowMisplaced: false, ...(select ? { select } : {}), ...(a.base ? { base: a.base } : {}),
  });
  if (!plan) throw usageError('internal: no plan for the mail');
  const store = new CacheStore(a.cache);
  const tree = await resolveTree(treeFor({ ...a, allowMisplaced: false }), { store, log: (m) => progress.stage('tree', m) });
  const results: CheckResult[] = [];
  try {
    if (probes.length > 0) {
      results.push(...(await probeResults(a, probes, plan, runDir, progress)));
    } else await withPlanCheckout(
      tree,
      plan,
      { store, variant: 'check', log: (m) => progress.stage('apply', m), onList: (list) => progress.stage('check', `<${mail.messageId}>: ${list.patches.length} patch(es) from ${list.describe}`) },
      async (co) => {
        results.push(applyResult(a.tool, co.reports));
        const v = await commandJudge(a.run!, co.tree.srcDir)(co.head);
        const tool = `${a.tool}/run`;
        if (typeof v !== 'string') results.push({ tool, status: 'fail', summary: v.infra });
        else if (v === 'good') results.push({ tool, status: 'pass', summary: `\`${a.run}\` passed on the series up to this patch` });
        else if (v === 'bad') results.push({ tool, status: 'fail', summary: `\`${a.run}\` failed on the series up to this patch` });
        else results.push({ tool, status: 'warn', summary: `\`${a.run}\` could not test this patch (exit 125)` });
      },
    );
  } catch (e) {
    // A patch that does not go in, or a kernel that does not build, is the check's answer, not an error of the tool.
    if (e instanceof KseriesError && e.exitCode === ExitCode.USAGE && /does not apply|refused|changes nothing/.test(e.message)) {
      results.push({ tool: `${a.tool}/apply`, status: 'fail', summary: e.message, ...(e.detail ? { details: e.detail } : {}) });
    } else if (e instanceof KseriesError && /^kernel build failed/.test(e.message)) {
      results.push({ tool: `${a.tool}/build`, status: 'fail', summary: e.message, ...(e.detail ? { details: e.detail } : {}) });
    } else throw e;
  }
  await writeFile(join(runDir, 'check.json'), jsonText(results));
  process.stdout.write(jsonText(a.format === 'patchwork' ? patchworkChecks(results) : results));
  progress.stage('check', `${results.map((r) => `${r.tool} ${r.status}`).join(', ')} · ${runDir}`);
  return ExitCode.OK;
}

export const checkCommand = exitCodeCommand('check', "a CI check for b4's review mode: a patch or cover letter on stdin, a JSON array of results on stdout", builder, checkHandler);
