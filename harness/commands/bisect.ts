// kseries bisect: which patch of a series (or commit of a range) changes what a probe sees.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { changedCases, formatBisectResult, formatBisectText, formatRangeResult, prefixNamer, sideBySide, type BisectTextContext } from '../bisect/format.ts';
import { publicCommand } from '../report/text.ts';
import { bisectSection, htmlPage } from '../report/html.ts';
import { publicTreeName } from '../kernel/tree.ts';
import { homedir } from 'node:os';
import { bisectRange } from '../bisect/git-bisect.ts';
import { parseRevisionRange } from '../util/revision-range.ts';
import { commandJudge, observationJudge, type Judge } from '../bisect/judge.ts';
import { commandPrefixTester, observeProbe, parseProbeSpec, prefixTester, type StepRunOptions } from '../bisect/kernel-tester.ts';
import { searchPrefixes, type PrefixSearchResult, type Tester } from '../bisect/search.ts';
import { CacheStore } from '../cache/store.ts';
import { resolveTree } from '../kernel/tree.ts';
import { ExitCode } from '../model/results.ts';
import { Progress } from '../run/progress.ts';
import { formatDuration } from '../util/duration.ts';
import { createRunDir } from '../run/rundir.ts';
import { infraError, usageError } from '../util/errors.ts';
import { onInterrupt, wasInterrupted } from '../util/proc.ts';
import { documentHeader } from '../report/documents.ts';
import { jsonSink, jsonText, writeInterrupted } from './output.ts';
import { sha256 } from '../util/hash.ts';
import { archForAbi } from '../model/arch.ts';
import { BASE_FRAGMENTS_DIR, bootOptions, buildAndBootFrom, configOptions, countOption, exitCodeCommand, htmlOption, jsonOption, junitOption, outOption, seriesOptions, treeOptions } from './options.ts';
import { bisectJunit, junitXml } from '../report/junit.ts';
import { profileFrom, treeFor } from './series-args.ts';
import { variantPlanFrom } from '../variant/plan.ts';
import { checkFragments, checkProbes, checkOutputFiles, outputFiles } from './validate.ts';

function builder(y: Argv) {
  return bootOptions(seriesOptions(configOptions(treeOptions(y))))
    .option('probe', { type: 'string', group: 'Bisect:', describe: 'probe to watch, NAME[:ABI] (ABI default compat)' })
    .option('run', { type: 'string', group: 'Bisect:', describe: 'instead of build+boot, run CMD in the applied tree: exit 0 good, 1 bad, 125 skip' })
    .option('repeat', countOption('repeat', 'observe each step K times; disagreeing steps are reported flaky', { default: 1, group: 'Bisect:' }))
    .option('out', outOption('run directory (one subdirectory per step)', 'Output:'))
    .option('json', jsonOption("write the result as JSON to FILE ('-' for stdout)", 'Output:'))
    .option('html', htmlOption('one self-contained HTML page to FILE: the prefix line of the series, good, bad and skipped'))
    .option('junit', junitOption('the result as JUnit XML to FILE: one testcase per tested prefix (good passes, bad fails, untestable skips) and one for the verdict'))
    .option('text', { type: 'string', nargs: 1, group: 'Output:', describe: 'plain-text result for a reply on the list (72 columns, no local paths) to FILE; always kept as bisect.txt in the run dir' });
}

type BisectArgs = ArgumentsCamelCase<Awaited<ReturnType<ReturnType<typeof builder>['parseAsync']>>>;

/** Exit codes: 0 a first bad patch or commit was named; 1 the ends agree or the culprit could not be narrowed to one; 2 usage; 3 infrastructure. */
function exitFor(status: string): number {
  return status === 'found' ? 0 : status === 'infra' ? ExitCode.INFRA : 1;
}

async function bisectHandler(a: BisectArgs): Promise<number> {
  const t0 = Date.now();
  await checkOutputFiles(outputFiles(a));
  const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
  if (!a.probe === !a.run) throw usageError('give exactly one of --probe NAME[:ABI] and --run CMD');
  const spec = a.probe ? parseProbeSpec(a.probe) : undefined;
  const profile = await profileFrom(a);
  const treeSpec = treeFor(a, profile);
  const store = new CacheStore(a.cache);
  const fragmentsFor = (arch: string) => [join(BASE_FRAGMENTS_DIR, `${arch}.config`), ...(profile?.fragments ?? []), ...a.fragment];
  if (spec) {
    await checkProbes([spec.probe]);
    await checkFragments(fragmentsFor(archForAbi(spec.abi)!.name));
  }
  const boot = buildAndBootFrom(a, profile?.vm);
  // The series (or range) and the tree are checked before the run directory is created.
  const range = a.range ? parseRevisionRange(a.range, ['GOOD', 'BAD']) : undefined;
  const series = variantPlanFrom(a, profile); // also refuses two ways of naming the patches
  const plan = range ? undefined : series;
  if (!range && !plan) throw usageError('bisect needs a series: --profile with --variant, --series, --patches or --range');
  const tree = await resolveTree(treeSpec, { store });
  if (range && !tree.isGit) throw usageError('--range needs --tree with git history');
  const list = plan ? (await plan.patches(tree)).list : undefined;
  if (list && list.patches.length === 0) throw usageError('the variant applies no patches: nothing to bisect');
  const runDir = await createRunDir(a.out);
  progress.begin('bisect');
  const stepOpts: StepRunOptions = { tree: treeSpec, fragmentsFor, ...boot, runDir, adds: [], execs: [], execTimeoutSec: 60 };
  // Ctrl-C: bisect.json says INTERRUPTED, with the steps decided so far; never a verdict.
  const steps: unknown[] = [];
  onInterrupt((signal) => writeInterrupted(join(runDir, 'bisect.json'), signal, progress.current, { ...documentHeader('bisect'), steps }));
  const sink = jsonSink(a.json);
  const textContext = (what: string): BisectTextContext => ({
    what,
    tree: publicTreeName(tree),
    tester: spec ? `${spec.probe}:${spec.abi} (build and boot each step)` : `--run '${a.run}'`,
    command: `npx kseries ${publicCommand(process.argv.slice(2))}`,
    localDirs: [{ dir: runDir, name: 'run dir' }, { dir: resolve(a.cache), name: 'cache' }, ...(a.tree ? [{ dir: resolve(a.tree), name: 'tree' }] : []), { dir: homedir(), name: 'home' }],
  });
  const finish = async (json: unknown, lines: string[], code: number, text: string) => {
    // A step killed by Ctrl-C may look like a skip; whatever was concluded from it is not kept.
    if (wasInterrupted()) return ExitCode.INTERRUPTED;
    lines.push(`time: ${formatDuration(Date.now() - t0)} · artefacts: ${runDir}`);
    sink.screen.write(lines.join('\n') + '\n');
    const doc = jsonText({ ...documentHeader('bisect'), ...(json as object) });
    await writeFile(join(runDir, 'bisect.json'), doc);
    await writeFile(join(runDir, 'bisect.txt'), text);
    if (a.text) await writeFile(a.text, text);
    await sink.write(doc);
    return code;
  };

  if (range) {
    // A range of the tree's own history: drive git bisect in a kseries worktree.
    const { from: good, to: bad } = range;
    const worktreeDir = join(store.dir('bisect'), sha256(tree.srcDir).slice(0, 16));
    const judge: Judge = spec
      ? observationJudge((commit) => observeProbe({ ...stepOpts, tree: { kind: 'dir', path: worktreeDir } }, spec, undefined, `commit-${commit.slice(0, 12)}`, progress))
      : commandJudge(a.run!, worktreeDir);
    const r = await store.withLock('bisect', sha256(tree.srcDir).slice(0, 16), () =>
      bisectRange({ repoDir: tree.srcDir, worktreeDir, good, bad, judge, log: (m) => (steps.push(m), progress.stage('bisect', m)) }),
    );
    if (a.junit) await writeFile(a.junit, junitXml('kseries bisect', bisectJunit(`commits ${good}..${bad}`, [], { status: r.status, line: formatRangeResult(r)[0] ?? r.status })));
    return finish(r, formatRangeResult(r), exitFor(r.status), formatBisectText(formatRangeResult(r), [], textContext(`commits ${good}..${bad}`)));
  }

  if (!plan || !list) throw usageError('bisect needs a series');
  progress.stage('bisect', `${list.patches.length} patches from ${list.describe}; base and full series first, then at most ${Math.ceil(Math.log2(list.patches.length + 1))} more steps`);
  const tester: Tester = spec ? prefixTester(stepOpts, spec, plan, list, progress) : commandPrefixTester(a.run!, { tree, store }, plan, list);
  const result: PrefixSearchResult = await searchPrefixes({
    patches: list.patches.length,
    tester,
    repeat: a.repeat,
    onStep: (s) => {
      steps.push(s);
      progress.stage('bisect', `prefix ${s.k}: ${s.decided}${s.flaky ? ` (flaky: ${JSON.stringify(s.counts)})` : ''}`);
    },
  });
  if (result.status === 'infra') throw infraError(`bisection stopped by an infrastructure error at prefix ${result.infraAt}: ${result.reason ?? ''}`);
  const resultLines = formatBisectResult(result, prefixNamer(list));
  const lines = [...resultLines, ...sideBySide(result)];
  const s = list.series[0];
  const text = formatBisectText(resultLines, changedCases(result), textContext(s ? `"${s.title}" v${s.revision} (${list.patches.length} patches)` : list.describe));
  if (a.html) {
    const steps = result.steps.map((x) => ({ k: x.k, state: x.decided }));
    await writeFile(a.html, htmlPage('kseries bisect', `${s ? `"${s.title}" v${s.revision}` : list.describe} · ${resultLines[0] ?? ''}`, [bisectSection(list.patches.length, steps, result.firstBad, prefixNamer(list))]));
  }
  if (a.junit) {
    const label = (k: number) => (k === 0 ? 'base' : `${list.patches[k - 1]!.index}/${list.patches[k - 1]!.total ?? list.patches.length} ${list.patches[k - 1]!.title}`);
    const junitSteps = result.steps.map((x) => ({ k: x.k, decided: x.decided, label: label(x.k), ...(x.value !== undefined ? { value: x.value } : {}), ...(x.decided === 'skip' ? { reason: x.observations.map((o) => (o.kind === 'skip' ? o.reason : '')).filter(Boolean).join('; ') || 'a tie between observations' } : {}) }));
    await writeFile(a.junit, junitXml('kseries bisect', bisectJunit(s ? `"${s.title}" v${s.revision}` : list.describe, junitSteps, { status: result.status, line: resultLines[0] ?? result.status })));
  }
  return finish({ ...result, patches: list.patches.map((p) => ({ index: p.index, title: p.title, messageId: p.message.messageId })) }, lines, exitFor(result.status), text);
}

export const bisectCommand = exitCodeCommand('bisect', 'find the patch of a series (or commit of a range) that changes a probe result', builder, bisectHandler);
