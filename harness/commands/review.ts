// kseries review <Message-ID>: find what every revision of a series and every
// diff posted in its thread changes, and name the patch that does it.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { CacheStore } from '../cache/store.ts';
import { listProbes } from '../image/guest.ts';
import { publicTreeName, resolveTree, type SourceTree } from '../kernel/tree.ts';
import { findThread, openSources } from '../mail/sources.ts';
import { normalizeMessageId } from '../mail/mbox.ts';
import { ALL_ABIS, archForAbi } from '../model/arch.ts';
import { ExitCode } from '../model/results.ts';
import { Progress } from '../run/progress.ts';
import { createRunDir } from '../run/rundir.ts';
import { collectReview } from '../review/collect.ts';
import { runReview } from '../review/engine.ts';
import { applied, BuildBudget, commandObserver, isRefused, kernelObserver, type ApplyContext } from '../review/observers.ts';
import { formatPlan, formatReviewMarkdown, formatReviewText, reviewJson } from '../review/report.ts';
import type { ReviewPlanSummary } from '../review/review-types.ts';
import { formatDuration } from '../util/duration.ts';
import { usageError } from '../util/errors.ts';
import { onInterrupt, wasInterrupted } from '../util/proc.ts';
import { parsePatchMails, seriesBase } from '../variant/patches.ts';
import { documentHeader } from '../report/documents.ts';
import { jsonSink, jsonText, writeInterrupted } from './output.ts';
import { BASE_FRAGMENTS_DIR, bootOptions, buildAndBootFrom, configOptions, countOption, exitCodeCommand, jsonOption, junitOption, outOption, profilePath, repeatable, treeOptions } from './options.ts';
import { junitXml, reviewJunit } from '../report/junit.ts';
import { treeFor } from './series-args.ts';
import { loadProfile, type Profile } from '../profile/profile.ts';
import { checkFragments, checkProbes, checkOutputFiles, outputFiles } from './validate.ts';

function builder(y: Argv) {
  return bootOptions(configOptions(treeOptions(y)))
    .positional('message', { type: 'string', demandOption: true, describe: 'any Message-ID of the thread' })
    .option('mbox', repeatable('look up the thread in this mbox (.gz ok)', 'Mail:'))
    .option('maildir', repeatable('look up the thread in this maildir', 'Mail:'))
    .option('inbox', repeatable('look up the thread in this public-inbox git archive', 'Mail:'))
    .option('lore', { type: 'boolean', default: true, group: 'Mail:', describe: 'fetch from lore.kernel.org when no source has the Message-ID (--no-lore to forbid)' })
    .option('profile', { type: 'string', group: 'Review:', describe: 'take config fragments, probes, ABIs and the tree from this profile' })
    .option('probe', repeatable('probe to run (default: all, or the profile\'s)', 'Review:'))
    .option('abi', repeatable(`ABI to run the probes on (default: all of ${ALL_ABIS.join(', ')})`, 'Review:'))
    .option('run', repeatable('instead of build+boot, run CMD in each applied tree: exit 0 good, 1 bad, 125 skip', 'Review:'))
    .option('port', repeatable("apply FILE instead of the diff posted in <MSGID>: '<MSGID>=FILE'", 'Review:'))
    .option('max-builds', countOption('max-builds', 'start at most N new kernel builds; the report lists what was left out', { group: 'Review:', min: 0 }))
    .option('plan', { type: 'boolean', default: false, group: 'Review:', describe: 'print the plan and stop' })
    .option('base', { type: 'string', group: 'Review:', describe: "revision of --tree to apply onto (default: the series' base-commit: when the tree has it, else HEAD)" })
    .option('guess-base', { type: 'boolean', default: false, group: 'Review:', describe: "without a usable base-commit:, find the base from the patches' index lines (as b4 does)" })
    .option('allow-misplaced', { type: 'boolean', default: false, group: 'Review:', describe: 'accept fuzzed hunks that land in another function' })
    .option('out', outOption('run directory: review.txt, review.md, review.json, one subdirectory per kernel', 'Output:'))
    .option('json', jsonOption("the review as JSON to FILE ('-' for stdout)", 'Output:'))
    .option('junit', junitOption('the review as JUnit XML to FILE: one testsuite per revision and reply diff, one testcase per probe cell, failing where it differs from the base'));
}

type ReviewArgs = ArgumentsCamelCase<Awaited<ReturnType<ReturnType<typeof builder>['parseAsync']>>> & { message: string };

class PlanOnly extends Error {}

/** '<id@host>=FILE' → id and file. */
export function parsePort(arg: string): { messageId: string; file: string } {
  const m = /^<?([^<>=\s]+@[^<>=\s]+)>?=(.+)$/.exec(arg);
  if (!m) throw usageError(`--port needs '<MESSAGE-ID>=FILE', got '${arg}'`);
  if (!existsSync(m[2]!)) throw usageError(`--port ${arg}: ${m[2]} does not exist`);
  return { messageId: normalizeMessageId(m[1]!), file: m[2]! };
}

/**
 * What builds took on this machine: medians of the cache's entries, cold ones (from an empty dir)
 * and seeded ones apart; 4 minutes and 1 minute when the cache has none.
 */
export async function buildEstimates(store: CacheStore): Promise<{ coldBuildMs: number; seededBuildMs: number }> {
  const dir = store.dir('builds');
  const names = await readdir(dir).catch(() => [] as string[]);
  const cold: number[] = [];
  const seeded: number[] = [];
  for (const n of names) {
    const e = await readFile(join(dir, n, 'entry.json'), 'utf8').then((t) => JSON.parse(t) as { buildMs?: number; seededFrom?: string }, () => undefined);
    if (e?.buildMs) (e.seededFrom ? seeded : cold).push(e.buildMs);
  }
  const median = (xs: number[], dflt: number) => (xs.length === 0 ? dflt : xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
  return { coldBuildMs: median(cold, 4 * 60_000), seededBuildMs: median(seeded, 60_000) };
}

/**
 * Exit codes: 0 the review ran to the end and every change was named; 5 something was left out
 * (--max-builds, an incomplete revision, a prefix that could not be tested) or a change not narrowed
 * to one patch; 2 usage; 3 infrastructure.
 */
async function reviewHandler(a: ReviewArgs): Promise<number> {
  const t0 = Date.now();
  await checkOutputFiles(outputFiles(a));
  const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
  const profile: Profile | undefined = a.profile ? await loadProfile(profilePath(a.profile)) : undefined;
  const store = new CacheStore(a.cache);
  const cmds = a.run;
  // Every input is checked before a tree is resolved or anything is built.
  const probes = a.probe.length > 0 ? a.probe : profile?.probes?.length ? profile.probes : await listProbes();
  const abis = a.abi.length > 0 ? a.abi : profile?.abis?.length ? profile.abis : [...ALL_ABIS];
  for (const abi of abis) if (!archForAbi(abi)) throw usageError(`unknown ABI '${abi}' (have: ${ALL_ABIS.join(', ')})`);
  const fragments = [...(profile?.fragments ?? []), ...a.fragment];
  const fragmentsFor = (arch: string) => [join(BASE_FRAGMENTS_DIR, `${arch}.config`), ...fragments];
  if (cmds.length === 0) {
    await checkProbes(probes);
    await checkFragments([...new Set(abis.map((x) => archForAbi(x)!.name))].flatMap(fragmentsFor));
  } else if (a.probe.length > 0 || a.abi.length > 0) {
    throw usageError('--run replaces build and boot: --probe and --abi do not apply');
  }
  const ports = a.port.map(parsePort);
  const boot = buildAndBootFrom(a, profile?.vm);
  const treeSpec = treeFor({ ...a, mbox: a.mbox, maildir: a.maildir, inbox: a.inbox, lore: a.lore, cache: a.cache, allowMisplaced: a.allowMisplaced }, profile);

  // The thread, its revisions and its reply diffs.
  const sources = await openSources({ mbox: a.mbox, maildir: a.maildir, inbox: a.inbox }, { store, onIndexing: (d) => progress.stage('mail', `indexing ${d} (once)`) });
  const messages = await findThread(a.message, sources, { store, lore: a.lore });
  const material = collectReview(messages, a.message);
  const portPatches = new Map<string, { file: string; patch: { index: number; total: number; title: string; message: (typeof messages)[number] } }>();
  for (const p of ports) {
    if (!material.replies.some((r) => r.messageId === p.messageId)) throw usageError(`--port <${p.messageId}>: no reply diff with that Message-ID in the thread (have: ${material.replies.map((r) => `<${r.messageId}>`).join(', ') || 'none'})`);
    const mail = parsePatchMails(await readFile(p.file), p.file)[0]!;
    portPatches.set(p.messageId, { file: p.file, patch: { index: 1, total: 1, title: `port of the diff in <${p.messageId}> (${p.file})`, message: mail } });
  }
  const tree = await resolveTree(treeSpec, { store, log: (m) => progress.stage('tree', m) });
  const latest = [...material.series.values()].at(-1);
  const latestPatches = [...material.revisions].reverse().find((r) => r.toApply)?.toApply ?? [];
  const chosenBase = await seriesBase(tree, { patches: latestPatches, series: latest ? [latest] : [], describe: '' }, a.base, { guess: a.guessBase });
  if (chosenBase.note) progress.stage('review', chosenBase.note);
  const ctx: ApplyContext = { tree, store, label: `review-${material.revisions[0]?.rootId.split('@')[0] ?? 'thread'}`, allowMisplaced: a.allowMisplaced, ...(chosenBase.base ? { base: chosenBase.base } : {}) };
  const runDir = await createRunDir(a.out);
  const budget = new BuildBudget(a.maxBuilds);
  const observer =
    cmds.length > 0
      ? commandObserver(cmds, ctx)
      : kernelObserver({ tree: treeSpec, apply: ctx, fragmentsFor, probes, abis, runDir, budget, progress, ...boot, adds: [], execs: [], execTimeoutSec: 60 });
  progress.begin('review');
  progress.stage('review', `${material.revisions.length} revision(s), ${material.replies.length} reply diff(s) in the thread of <${material.messageId}>`);
  onInterrupt((signal) => writeInterrupted(join(runDir, 'review.json'), signal, progress.current, documentHeader('review')));
  const sink = jsonSink(a.json);
  const showPlan = (p: ReviewPlanSummary) => {
    sink.screen.write(formatPlan(p).join('\n') + '\n');
    if (a.plan) throw new PlanOnly();
  };
  let report;
  try {
    report = await runReview({
      material,
      observer,
      tryApply: async (v) => {
        const r = await applied(ctx, v, async () => undefined);
        return isRefused(r) ? { reason: r.refused } : undefined;
      },
      ports: portPatches,
      budget,
      estimate: { ...(await buildEstimates(store)), bootMs: 5_000, checkoutMs: 1_000 },
      tree: `${publicTreeName(tree)}${chosenBase.note ? `; ${chosenBase.note}` : ''}`,
      tester: cmds.length > 0 ? `--run ${cmds.map((c) => `'${c}'`).join(' ')}` : `build and boot: ${probes.length} probes on ${abis.join(', ')}`,
      onPlan: showPlan,
      log: (m) => progress.stage('review', m),
    });
  } catch (e) {
    if (e instanceof PlanOnly) return ExitCode.OK;
    throw e;
  }
  if (wasInterrupted()) return ExitCode.INTERRUPTED;
  progress.clearLive();
  const text = formatReviewText(report);
  const json = jsonText(reviewJson(report));
  await writeFile(join(runDir, 'review.txt'), text);
  await writeFile(join(runDir, 'review.md'), formatReviewMarkdown(report));
  await writeFile(join(runDir, 'review.json'), json);
  if (a.junit) await writeFile(a.junit, junitXml(`kseries review <${report.messageId}>`, reviewJunit(report.table, report.cells)));
  await sink.write(json);
  const undecided = report.leftOut.length > 0 || report.revisions.some((r) => r.changes.some((c) => c.status !== 'found'));
  const code = undecided ? 5 : ExitCode.OK;
  sink.screen.write(text + `reports: ${join(runDir, 'review.txt')}, review.md and review.json · ${formatDuration(Date.now() - t0)} · exit ${code}\n`);
  return code;
}

export const reviewCommand = exitCodeCommand('review <message>', 'find what every revision and every posted diff of a thread changes, and the patch that does it', builder, reviewHandler);
