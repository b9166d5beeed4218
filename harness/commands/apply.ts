// kseries apply: put a series onto a tree as a branch (one commit per patch)
// and report exactly how each patch went in. No build.
import type { CommandModule } from 'yargs';
import { CacheStore } from '../cache/store.ts';
import { resolveTree } from '../kernel/tree.ts';
import { formatApplyReport } from '../report/apply-report.ts';
import { Progress } from '../run/progress.ts';
import { formatSeriesSummary } from '../apply/series-summary.ts';
import { usageError } from '../util/errors.ts';
import { jsonOption, seriesOptions, treeOptions } from './options.ts';
import { jsonSink, jsonText } from './output.ts';
import { profileFrom, treeFor, type SeriesArgs } from './series-args.ts';
import { variantPlanFrom, withPlanCheckout } from '../variant/plan.ts';
import type { PatchList } from '../variant/patches.ts';

type ApplyArgs = SeriesArgs & { messageId?: string; json?: string };

export const applyCommand: CommandModule<object, ApplyArgs> = {
  command: 'apply [message-id]',
  describe: 'apply a series (by Message-ID, profile variant, --patches or --range) to a tree as a new branch',
  builder: (y) =>
    seriesOptions(treeOptions(y))
      .positional('message-id', { type: 'string', describe: 'any message of the series (same as --series)' })
      .option('json', jsonOption("write the apply report as JSON to FILE ('-' for stdout)")) as never,
  handler: async (a) => {
    const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
    const args: ApplyArgs = { ...a, ...(a.messageId ? { series: a.series ?? a.messageId } : {}) };
    const profile = await profileFrom(args);
    const plan = variantPlanFrom(args, profile);
    if (!plan) throw usageError('nothing to apply: give a Message-ID, --profile with --variant, --patches or --range');
    const store = new CacheStore(a.cache);
    const tree = await resolveTree(treeFor(args, profile), { store, log: (m) => progress.stage('tree', m) });
    const sink = jsonSink(a.json);
    const out = sink.screen;
    let list: PatchList | undefined;
    const result = await withPlanCheckout(tree, plan, {
      store,
      log: (m) => progress.stage('apply', m),
      onList: (l) => {
        list = l;
        for (const s of l.series) out.write(formatSeriesSummary(s).join('\n') + '\n');
        for (const n of l.notes ?? []) out.write(`${n}\n`);
      },
    }, async (co) => co);
    out.write(`applied ${result.reports.length} patch(es) onto ${result.baseCommit.slice(0, 12)}:\n`);
    out.write(formatApplyReport(result.reports).map((l) => `  ${l}`).join('\n') + '\n');
    out.write(`branch ${result.branch} (${result.head.slice(0, 12)}) in ${result.repoDir}\nworktree ${result.tree.srcDir}\n`);
    await sink.write(jsonText({ branch: result.branch, repo: result.repoDir, base: result.baseCommit, head: result.head, series: list!.series.map((s) => ({ revision: s.revision, title: s.title, cover: s.cover?.messageId, total: s.total })), patches: result.reports }));
  },
};
