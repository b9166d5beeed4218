// kseries claims PROFILE: decide what reviewers claimed on the list, with the
// fewest builds and boots: each needed variant once per kernel, every needed
// probe once per boot, cached builds reused. --check only validates the
// claim files and prints that plan.
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { evaluateClaims, type ClaimResults } from '../claims/evaluate.ts';
import { formatClaimsPlan, planClaims } from '../claims/claim-plan.ts';
import { loadProbeCases, type ProbeCaseTable } from '../claims/probe-cases.ts';
import { countVerdicts, countWords, formatEvaluation, formatMarkdownReport, formatVerdictTable, loreLink, rowLabel, toClaimsJson, type ClaimsReportContext } from '../claims/report.ts';
import { kcidbClaims, kcidbDocument } from '../report/kcidb.ts';
import { formatTextReport, publicCommand } from '../claims/report-text.ts';
import { publicTreeName } from '../kernel/tree.ts';
import { predicateRefs, probeBinary, readClaims, selectLoaded, sourcePredicates, type Claim, type LoadedClaims, type SourcePredicate } from '../claims/spec.ts';
import { readSourceFacts, type SourceFact } from '../claims/source-facts.ts';
import { listProbes } from '../image/guest.ts';
import { archForAbi } from '../model/arch.ts';
import { loadProfile, type Profile } from '../profile/profile.ts';
import { Progress } from '../run/progress.ts';
import { formatDuration } from '../util/duration.ts';
import { createRunDir } from '../run/rundir.ts';
import { runVariants, type KernelRun } from '../run/variants-run.ts';
import { infraError, KseriesError, usageError } from '../util/errors.ts';
import { onInterrupt, wasInterrupted } from '../util/proc.ts';
import { documentHeader } from '../report/documents.ts';
import { jsonSink, jsonText, writeInterrupted, writeResults } from './output.ts';
import { kcidbRun, kernelEntry } from './run.ts';
import { sha256 } from '../util/hash.ts';
import { BASE_FRAGMENTS_DIR, bootOptions, buildAndBootFrom, configOptions, exitCodeCommand, htmlOption, jsonOption, junitOption, ktapOption, outOption, profilePath, repeatable, seriesOptions, treeOptions } from './options.ts';
import { treeFor } from './series-args.ts';
import { variantPlanFrom, withPlanCheckout, type VariantPlan } from '../variant/plan.ts';
import { checkFragments, checkOutputFiles, outputFiles } from './validate.ts';
import { claimsKtap } from '../report/ktap.ts';
import { claimsJunit, junitXml } from '../report/junit.ts';
import { claimsSection, htmlPage, matrixSection } from '../report/html.ts';
import { buildMatrix } from '../report/matrix.ts';
import type { PatchApplyReport } from '../apply/apply-types.ts';
import { CacheStore } from '../cache/store.ts';
import { resolveTree, type SourceTree } from '../kernel/tree.ts';

function builder(y: Argv) {
  return bootOptions(seriesOptions(configOptions(treeOptions(y)), { profile: false }))
    .positional('profile', { type: 'string', demandOption: true, describe: 'profile directory or name under patches/' })
    .option('only', repeatable('decide only this claim id', 'Claims:'))
    .option('check', { type: 'boolean', default: false, group: 'Claims:', describe: 'validate the claim files and print the plan; build and boot nothing' })
    .option('out', outOption('run directory (one subdirectory per variant)', 'Output:'))
    .option('json', jsonOption("claims JSON to FILE ('-' for stdout); always kept as claims.json in the run dir", 'Output:'))
    .option('markdown', { type: 'string', nargs: 1, group: 'Output:', describe: 'Markdown report to FILE; always kept as claims.md in the run dir' })
    .option('html', htmlOption('one self-contained HTML page to FILE: the matrix of the variants run, the claims with their evidence'))
    .option('ktap', ktapOption('the verdicts as a KTAP v1 document to FILE (ok as recorded, not ok against the expectation or for the infrastructure, SKIP when inconclusive)'))
    .option('kcidb', { type: 'string', nargs: 1, group: 'Output:', describe: "KernelCI's KCIDB v5.3 JSON to FILE: the variants' checkouts, builds and tests, each claim an issue, each probe row of its evidence an incident" })
    .option('junit', junitOption('the verdicts as JUnit XML to FILE: as recorded passes, against the expectation fails, inconclusive skips, infra-error errors'))
    .option('text', { type: 'string', nargs: 1, group: 'Output:', describe: 'plain-text report for a reply on the list (72 columns, no local paths) to FILE; always kept as claims.txt in the run dir' });
}

type ClaimsArgs = ArgumentsCamelCase<Awaited<ReturnType<ReturnType<typeof builder>['parseAsync']>>> & { profile: string };

/**
 * Exit codes: 0 every claim decided (confirmed or refuted) as recorded; 1 a decided claim went
 * against its recorded expectation; 3 a variant could not be built or booted (infra-error);
 * 5 a claim stayed inconclusive (a probe skipped, flaky, or crashed), or a claim file is invalid
 * while other claims were decided (the bad file counts like an inconclusive claim: it is listed
 * with its error in the output, claims.md and claims.json); 2 bad input, including every
 * selected claim file being invalid (nothing can be decided).
 * With --check: 0 every claim file is valid, 2 some is not (each listed with its error).
 */
export function claimsExitCode(counts: ReturnType<typeof countVerdicts>, invalid: number): number {
  if (counts.unexpected > 0) return 1;
  if (counts['infra-error'] > 0) return 3;
  if (counts.inconclusive > 0 || invalid > 0) return 5;
  return 0;
}

/** Referenced probes whose case names could not be checked, and why: for --check. */
export function uncheckedCases(claims: readonly Claim[], cases: ProbeCaseTable): string[] {
  const probes = [...new Set(claims.flatMap((c) => predicateRefs(c.observable).filter((r) => r.case !== undefined).map((r) => probeBinary(r.probe))))];
  return probes.flatMap((p) => {
    const declared = cases[p];
    if (declared?.complete) return [];
    return [`case names of ${p} not checked: ${declared?.why ?? 'no source under images/probes/'}`];
  });
}

/** --check: the claims' validity and the plan, nothing built. */
function checkClaims(profile: Profile, loaded: LoadedClaims, cases: ProbeCaseTable): number {
  const { claims, invalid } = loaded;
  const out = process.stdout;
  const lines = [`claims on ${profile.name}: ${claims.length} valid, ${invalid.length} invalid`];
  for (const x of invalid) lines.push(`  ${x.id}: invalid: ${x.error}`);
  lines.push(...formatClaimsPlan(planClaims(claims), claims.length));
  lines.push(...uncheckedCases(claims, cases));
  const code = invalid.length > 0 ? 2 : 0;
  lines.push(`check: ${invalid.length > 0 ? `${invalid.length} invalid claim file${invalid.length === 1 ? '' : 's'}` : 'every claim file is valid'}; nothing built · exit ${code}`);
  out.write(lines.join('\n') + '\n');
  return code;
}

async function claimsHandler(a: ClaimsArgs): Promise<number> {
  const t0 = Date.now();
  await checkOutputFiles(outputFiles(a));
  const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
  const profile = await loadProfile(profilePath(a.profile));
  const cases = await loadProbeCases();
  const loaded = selectLoaded(await readClaims(profile, await listProbes(), { cases }), a.only);
  if (a.check) return checkClaims(profile, loaded, cases);
  const { claims, invalid } = loaded;
  // Nothing can be decided: bad input. Otherwise a bad file is reported with the verdicts.
  if (claims.length === 0 && invalid[0]) throw usageError(invalid[0].error, invalid.slice(1).map((x) => x.error).join('\n') || undefined);
  const plan = planClaims(claims);
  const tree = treeFor(a, profile);
  // Every variant's plan and the config inputs are checked before anything is created or built.
  const plans = new Map(plan.variants.map((name) => [name, variantPlanFrom({ ...a, variant: name }, profile)]));
  const boot = buildAndBootFrom(a, profile.vm);
  const fragments = [...profile.fragments, ...a.fragment];
  await checkFragments([...new Set(plan.abis.map((abi) => join(BASE_FRAGMENTS_DIR, archForAbi(abi)!.fragment))), ...fragments]);
  const runDir = await createRunDir(a.out);
  if (invalid.length > 0) progress.stage('claims', `${invalid.length} invalid claim file${invalid.length === 1 ? '' : 's'} not decided: ${invalid.map((x) => x.id).join(', ')}`);
  progress.stage('claims', `${claims.length} claims need ${plan.variants.length} variants (${plan.variants.join(', ')}) on ${plan.abis.join(', ')}`);

  const results: ClaimResults = {};
  const runs: KernelRun[] = [];
  let variant: string | undefined;
  // Ctrl-C decides nothing: claims.json says so, with the variants that had been run.
  const undo = onInterrupt((signal) =>
    writeInterrupted(join(runDir, 'claims.json'), signal, progress.current && variant ? `${progress.current} of variant ${variant}` : progress.current, { ...documentHeader('claims'), profile: profile.name, variantsRun: Object.keys(results), claims: [] }),
  );
  let sourceTree: SourceTree | undefined;
  const appliedOnly: Record<string, PatchApplyReport[]> = {};
  for (const name of plan.variants) {
    const needs = plan.perVariant[name]!;
    variant = name;
    try {
      const preds = claims.flatMap((c) => sourcePredicates(c.observable)).filter((p) => p.source.variant === name);
      if (needs.probes.length === 0) {
        // Only facts of the series are asked of this variant: apply it, build nothing.
        sourceTree ??= await resolveTree(tree, { store: new CacheStore(a.cache), log: (m) => progress.stage('tree', m) });
        const { applied, sources } = await applyOnly(sourceTree, plans.get(name)!, a.cache, progress, preds);
        results[name] = { status: 'ok', applied, sources };
        appliedOnly[name] = applied;
        continue;
      }
      const out = await runVariants(
        {
          tree,
          baseFragmentsDir: BASE_FRAGMENTS_DIR,
          extraFragments: fragments,
          ...boot,
          runDir: join(runDir, name),
          probes: needs.probes,
          unprivileged: needs.unprivileged,
          variants: [{ name, plan: plans.get(name)! }],
          abis: needs.abis,
          adds: [],
          execs: [],
          execTimeoutSec: 60,
          keepGoing: true,
        },
        progress,
      );
      // Every kernel of the variant failed: the variant decides nothing, as when it does not apply.
      if (out.runs.length === 0) throw out.failed.length > 0 ? infraError(out.failed.map((f) => `${f.arch} kernel: ${f.reason}`).join('; ')) : infraError('no kernel was run');
      const failedAbis = Object.fromEntries(out.failed.flatMap((f) => f.abis.map((abi) => [abi, `the ${f.arch} kernel: ${f.reason}`])));
      runs.push(...out.runs);
      // The variant's directory gets its results.json, as a run's does.
      const meta = { command: process.argv.slice(2).join(' '), ...(out.runs.length === 1 ? out.runs[0]!.record : { runDir: join(runDir, name), kernels: out.runs.map(kernelEntry) }) };
      await writeResults(join(runDir, name), undefined, out.merged, meta, { exitCode: out.exitCode, matrix: out.matrix });
      const applied = out.runs[0]?.record.applied;
      // Source facts need the tree as applied: check the variant out again to read them.
      if (preds.length > 0) sourceTree ??= await resolveTree(tree, { store: new CacheStore(a.cache), log: (m) => progress.stage('tree', m) });
      const sources = preds.length > 0 ? (await applyOnly(sourceTree!, plans.get(name)!, a.cache, progress, preds)).sources : undefined;
      results[name] = { status: 'ok', result: out.merged, ...(applied ? { applied } : {}), ...(sources ? { sources } : {}), ...(out.failed.length > 0 ? { failedAbis } : {}) };
    } catch (e) {
      // A variant that cannot be applied, built or booted decides nothing: its claims are infra-errors.
      // A build killed by Ctrl-C is no infra-error: the interrupt ends the command.
      if (!(e instanceof KseriesError) || wasInterrupted()) throw e;
      progress.stage('claims', `variant ${name}: ${e.message}`);
      results[name] = { status: 'infra', reason: e.message };
    }
  }

  undo();
  const evaluations = evaluateClaims(claims, results);
  const context = await reportContext(profile.name, a, runs, runDir, appliedOnly, sourceTree);
  const counts = countVerdicts(evaluations);
  const code = claimsExitCode(counts, invalid.length);
  const markdown = formatMarkdownReport(evaluations, claims, context, invalid);
  const json = jsonText(toClaimsJson(evaluations, claims, context, invalid));
  const text = formatTextReport(evaluations, claims, context, invalid);
  await writeFile(join(runDir, 'claims.md'), markdown);
  await writeFile(join(runDir, 'claims.txt'), text);
  await writeFile(join(runDir, 'claims.json'), json);
  if (a.markdown) await writeFile(a.markdown, markdown);
  if (a.text) await writeFile(a.text, text);
  if (a.html) {
    const booted = plan.variants.flatMap((v) => (results[v]?.result ? [{ variant: v, result: results[v]!.result! }] : []));
    const matrix = buildMatrix(booted, booted.some((b) => b.variant === 'base') ? 'base' : undefined);
    const html = evaluations.map((e) => {
      const c = claims.find((x) => x.id === e.id);
      return {
        id: e.id, verdict: e.verdict, ...(e.unexpected ? { unexpected: true } : {}), who: c ? `${c.author}, ${c.date}` : '', claim: c?.claim ?? '', reason: e.reason,
        evidence: e.evidence.map((r): [string, string, string] => [rowLabel(r), r.variant, `${r.status}${r.lines[0] ? ` ${r.lines[0]}` : ''}${r.reason ? ` (${r.reason})` : ''}`]),
      };
    });
    await writeFile(a.html, htmlPage(`kseries claims: ${profile.name}`, `${context.treeName} · ${countWords(evaluations, invalid.length).join(', ')}`, [...(booted.length > 0 ? [matrixSection(matrix)] : []), claimsSection(html)]));
  }
  if (a.kcidb) {
    const kruns = await Promise.all(runs.map(kcidbRun));
    const doc = kcidbDocument(kruns);
    const { issues, incidents } = kcidbClaims(
      evaluations.map((e) => {
        const c = claims.find((x) => x.id === e.id)!;
        return {
          profile: profile.name, id: e.id, author: c.author, claim: c.claim, ...(c.messageId ? { reportUrl: loreLink(c.messageId) } : {}), verdict: e.verdict, reason: e.reason,
          evidence: e.evidence.map((r) => ({ variant: r.variant, abi: r.abi, probe: r.probe, ...(r.case !== undefined ? { case: r.case } : {}), status: r.status, ...(r.lines[0] ? { line: r.lines[0] } : {}) })),
        };
      }),
      kruns,
    );
    await writeFile(a.kcidb, jsonText({ ...doc, issues, incidents }));
  }
  if (a.ktap || a.junit) {
    const entries = evaluations.map((e) => {
      const c = claims.find((x) => x.id === e.id);
      return { id: e.id, verdict: e.verdict, ...(e.unexpected !== undefined ? { unexpected: e.unexpected } : {}), reason: e.reason, ...(c ? { said: `${c.author}, ${c.date}: ${c.claim}` } : {}) };
    });
    if (a.ktap) await writeFile(a.ktap, claimsKtap(entries, invalid));
    if (a.junit) await writeFile(a.junit, junitXml(`kseries claims ${profile.name}`, claimsJunit(profile.name, entries, invalid)));
  }
  const sink = jsonSink(a.json);
  await sink.write(json);
  progress.clearLive();
  const out = sink.screen;
  for (const e of evaluations) if (e.verdict !== 'confirmed' && e.verdict !== 'refuted') out.write(formatEvaluation(e).join('\n') + '\n');
  out.write(['', `claims on ${profile.name} (${context.kernelVersion}):`, ...formatVerdictTable(evaluations, claims, invalid)].join('\n') + '\n');
  out.write(`reports: ${join(runDir, 'claims.txt')}, claims.md and claims.json · ${formatDuration(Date.now() - t0)} · exit ${code}\n`);
  return code;
}

/** Apply a variant's patches in the tree's worktree and say how each went in; no build. */
/** Apply a variant and read the source facts some claim asks of it; no build. */
function applyOnly(tree: SourceTree, plan: VariantPlan, cache: string, progress: Progress, preds: readonly SourcePredicate[]): Promise<{ applied: PatchApplyReport[]; sources: Record<string, SourceFact> }> {
  return withPlanCheckout(tree, plan, { store: new CacheStore(cache), log: (m) => progress.stage('apply', m) }, async (co) => ({
    applied: co.reports,
    sources: await readSourceFacts(co.tree.srcDir, preds),
  }));
}

/** Environment and provenance for the report, from the runs' metadata. */
async function reportContext(
  profile: string, a: ClaimsArgs, runs: KernelRun[], runDir: string,
  appliedOnly: Record<string, PatchApplyReport[]>, sourceTree: SourceTree | undefined,
): Promise<ClaimsReportContext> {
  const first = runs[0]?.record;
  const variants: ClaimsReportContext['variants'] = {};
  const patchInfo = (p: PatchApplyReport) => ({ index: p.index, title: p.title, messageId: p.messageId.endsWith('@kseries.invalid') ? '' : p.messageId, patchIdPosted: p.patchIdPosted, patchIdApplied: p.patchIdApplied, method: p.method });
  for (const [name, applied] of Object.entries(appliedOnly)) variants[name] = { patches: applied.map(patchInfo), configHash: '', buildKey: '' };
  for (const r of runs) {
    const applied = r.record.applied ?? [];
    const config = await readFile(join(r.runDir, 'config'), 'utf8').catch(() => '');
    const key = r.arch === 'x86_64' ? r.variant : `${r.variant} (${r.arch})`;
    variants[key] = {
      patches: applied.map(patchInfo),
      configHash: config ? sha256(config).slice(0, 16) : '',
      buildKey: r.record.buildKey,
    };
  }
  const argv = process.argv.slice(2).join(' ');
  return {
    profile,
    kernelVersion: first?.kernelVersion ?? sourceTree?.version ?? '',
    base: first?.tree ?? sourceTree?.describe ?? '',
    variants,
    compiler: first?.compiler ?? '',
    qemu: first?.qemu ?? '',
    accel: `${first?.accel ?? ''} (${first?.accelReason ?? ''})`,
    commands: [`npx kseries ${argv}`, ...runs.map((r) => `${join(r.runDir, 'reproducer.sh')}   # ${r.variant} on ${r.arch}`)],
    treeName: publicTreeName({ describe: first?.tree ?? sourceTree?.describe ?? '', version: first?.kernelVersion ?? sourceTree?.version ?? '' }),
    publicCommand: `npx kseries ${publicCommand(process.argv.slice(2))}`,
    localDirs: [
      { dir: runDir, name: 'run dir' },
      { dir: resolve(a.cache), name: 'cache' },
      ...(a.tree ? [{ dir: resolve(a.tree), name: 'tree' }] : []),
      { dir: homedir(), name: 'home' },
    ],
  };
}

export const claimsCommand = exitCodeCommand('claims <profile>', "decide a profile's review claims: confirmed, refuted, inconclusive or infra-error, with evidence", builder, claimsHandler);
