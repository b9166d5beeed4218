// A variant plan: which patches to apply onto a tree, under which branch name
// (kseries/<label>/<name>), built from the series choice of a command line.
import { basename } from 'node:path';
import { CacheStore } from '../cache/store.ts';
import type { SourceTree } from '../kernel/tree.ts';
import { findVariant, type Profile } from '../profile/profile.ts';
import { usageError } from '../util/errors.ts';
import { withVariantCheckout, type VariantCheckout } from './checkout.ts';
import { directoryPatches, messageIdPatches, pickPatches, rangePatches, seriesBase, variantPatches, type PatchList, type SeriesInputs } from './patches.ts';

export interface VariantPlan {
  /** Profile or series name, and variant name: the branch is kseries/<label>/<name>. */
  label: string;
  name: string;
  /** Resolved once the tree is known (a --range needs the tree). */
  patches: (tree: SourceTree) => Promise<{ list: PatchList; base?: string }>;
  base?: string;
  allowMisplaced: boolean;
}

/** The tree with no patches: what a tree without git history is built from (see runPipeline). */
export const UNPATCHED: VariantPlan = {
  label: 'tree',
  name: 'base',
  allowMisplaced: false,
  patches: async () => ({ list: { patches: [], series: [], describe: 'no patches' } }),
};

/** How the patches were named: at most one of variant (of the profile), series, patches and range. */
export interface SeriesChoice {
  cache: string;
  variant?: string;
  series?: string;
  revision?: number;
  select?: string;
  drop?: number[];
  mbox: string[];
  maildir: string[];
  inbox: string[];
  lore: boolean;
  patches?: string;
  range?: string;
  base?: string;
  /** --guess-base: find the base from the patches' index lines when the series names none the tree has. */
  guessBase?: boolean;
  allowMisplaced: boolean;
}

/** The variant to apply, or undefined for a plain run. */
export function variantPlanFrom(a: SeriesChoice, profile?: Profile): VariantPlan | undefined {
  const inputs = (): SeriesInputs => ({ mbox: a.mbox, maildir: a.maildir, inbox: a.inbox, lore: a.lore, store: new CacheStore(a.cache) });
  const chosen = [a.variant && 'profile variant', a.series && '--series', a.patches && '--patches', a.range && '--range'].filter(Boolean);
  if (chosen.length > 1) throw usageError(`choose one of --variant, --series, --patches and --range (got ${chosen.join(', ')})`);
  const common = { allowMisplaced: a.allowMisplaced, ...(a.base ? { base: a.base } : {}) };
  const picking = a.select !== undefined || (a.drop ?? []).length > 0;
  if (a.revision !== undefined && !a.series) throw usageError('-v/--revision chooses a revision of a --series');
  if (picking && profile && a.variant) throw usageError('-P/--drop choose patches of --series, --patches or --range; a profile variant names its own');
  const pick = (list: PatchList) => pickPatches(list, a.select, a.drop);
  if (profile && a.variant) {
    const v = findVariant(profile, a.variant);
    // Even a variant without patches goes through the worktree, so all of a profile's variants
    // build at one path and share ccache, whether the tree has git history or not.
    return { label: profile.name, name: v.name, ...common, patches: async () => ({ list: await variantPatches(profile, v, inputs()) }) };
  }
  if (a.series) {
    const opts = { ...(a.revision ? { revision: a.revision } : {}), ...(a.select ? { select: a.select } : {}), ...(a.drop ? { drop: a.drop } : {}) };
    return { label: a.series.replace(/[<>]/g, '').split('@')[0]!, name: a.revision ? `v${a.revision}` : 'latest', ...common, patches: async (tree: SourceTree) => {
        const list = await messageIdPatches(a.series!, opts, inputs());
        // --base wins; else the series' own base-commit: when the tree has it.
        const chosen = await seriesBase(tree, list, a.base, { guess: a.guessBase ?? false });
        return { list: { ...list, notes: [...(list.notes ?? []), ...(chosen.note ? [chosen.note] : [])] }, ...(chosen.base ? { base: chosen.base } : {}) };
      } };
  }
  if (a.patches) {
    return { label: 'patches', name: basename(a.patches), ...common, patches: async (tree: SourceTree) => {
        const list = pick(await directoryPatches(a.patches!));
        if (!a.guessBase || a.base) return { list };
        const chosen = await seriesBase(tree, list, undefined, { guess: true });
        return { list: { ...list, notes: [...(list.notes ?? []), ...(chosen.note ? [chosen.note] : [])] }, ...(chosen.base ? { base: chosen.base } : {}) };
      } };
  }
  if (a.range) {
    const range = a.range;
    return {
      label: 'range',
      name: range,
      ...common,
      patches: async (tree: SourceTree) => {
        if (!tree.isGit) throw usageError('--range needs --tree with git history');
        const r = await rangePatches(tree.srcDir, range);
        return { ...r, list: pick(r.list) };
      },
    };
  }
  if (profile && !a.variant) throw usageError(`--profile needs --variant (have: ${profile.variants.map((v) => v.name).join(', ')})`);
  return undefined;
}

export interface PlanCheckoutOptions {
  store: CacheStore;
  log?: (msg: string) => void;
  /** The branch's variant name, when it is not the plan's (kseries/<label>/<variant>). */
  variant?: string;
  /** Called with the patch list once it is known, before anything is applied. */
  onList?: (list: PatchList) => void;
}

/** Resolve a plan's patches on `tree`, apply them in the tree's worktree and run `fn` there. */
export async function withPlanCheckout<T>(tree: SourceTree, plan: VariantPlan, o: PlanCheckoutOptions, fn: (co: VariantCheckout, list: PatchList) => Promise<T>): Promise<T> {
  const { list, base } = await plan.patches(tree);
  o.onList?.(list);
  const from = base ?? plan.base;
  return withVariantCheckout(
    { tree, ...(from ? { base: from } : {}), label: plan.label, variant: o.variant ?? plan.name, patches: list.patches, allowMisplaced: plan.allowMisplaced, store: o.store, ...(o.log ? { log: o.log } : {}) },
    (co) => fn(co, list),
  );
}
