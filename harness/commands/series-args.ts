// From the series options to what the pipeline needs: the profile (if any),
// the tree to use, and a plan for the variant's patches.
import { basename } from 'node:path';
import { CacheStore } from '../cache/store.ts';
import type { SourceTree, TreeSpec } from '../kernel/tree.ts';
import { findVariant, loadProfile, type Profile } from '../profile/profile.ts';
import type { VariantPlan } from '../run/pipeline.ts';
import { usageError } from '../util/errors.ts';
import { directoryPatches, messageIdPatches, rangePatches, variantPatches, type SeriesInputs } from '../variant/patches.ts';
import { profilePath, treeSpecFrom } from './options.ts';

export interface SeriesArgs {
  tree?: string;
  tarball?: string;
  sha256?: string;
  cache: string;
  profile?: string;
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
  allowMisplaced: boolean;
}

export async function profileFrom(a: SeriesArgs): Promise<Profile | undefined> {
  if (a.variant && !a.profile) throw usageError('--variant needs --profile');
  return a.profile ? loadProfile(profilePath(a.profile)) : undefined;
}

/** The tree: --tree/--tarball when given, else what the profile's base says, else the default. */
export function treeFor(a: SeriesArgs, profile?: Profile): TreeSpec {
  if (a.tree || a.tarball || !profile) return treeSpecFrom(a);
  const b = profile.base;
  if (b.source === 'debian-linux-source-6.1') return { kind: 'default' };
  if (b.tarball && b.sha256) return { kind: 'tarball', location: b.tarball, sha256: b.sha256 };
  throw usageError(`profile ${profile.name} is based on Linux ${b.kernel}: pass --tree (a checkout${b.gitRef ? ` at ${b.gitRef}` : ''}) or --tarball${b.tarball ? ` ${b.tarball}` : ''} --sha256`);
}

/** The variant to apply, or undefined for a plain run. */
export function variantPlanFrom(a: SeriesArgs, profile?: Profile): VariantPlan | undefined {
  const inputs = (): SeriesInputs => ({ mbox: a.mbox, maildir: a.maildir, inbox: a.inbox, lore: a.lore, store: new CacheStore(a.cache) });
  const chosen = [a.variant && 'profile variant', a.series && '--series', a.patches && '--patches', a.range && '--range'].filter(Boolean);
  if (chosen.length > 1) throw usageError(`choose one of --variant, --series, --patches and --range (got ${chosen.join(', ')})`);
  const common = { allowMisplaced: a.allowMisplaced, ...(a.base ? { base: a.base } : {}) };
  if (profile && a.variant) {
    const v = findVariant(profile, a.variant);
    // Even a variant without patches goes through the worktree, so all of a profile's variants
    // build at one path and share ccache, whether the tree has git history or not.
    return { label: profile.name, name: v.name, ...common, patches: async () => ({ list: await variantPatches(profile, v, inputs()) }) };
  }
  if (a.series) {
    const opts = { ...(a.revision ? { revision: a.revision } : {}), ...(a.select ? { select: a.select } : {}), ...(a.drop ? { drop: a.drop } : {}) };
    return { label: a.series.replace(/[<>]/g, '').split('@')[0]!, name: a.revision ? `v${a.revision}` : 'latest', ...common, patches: async () => ({ list: await messageIdPatches(a.series!, opts, inputs()) }) };
  }
  if (a.patches) return { label: 'patches', name: basename(a.patches), ...common, patches: async () => ({ list: await directoryPatches(a.patches!) }) };
  if (a.range) {
    const range = a.range;
    return {
      label: 'range',
      name: range,
      ...common,
      patches: async (tree: SourceTree) => {
        if (!tree.isGit) throw usageError('--range needs --tree with git history');
        return rangePatches(tree.srcDir, range);
      },
    };
  }
  if (profile && !a.variant) throw usageError(`--profile needs --variant (have: ${profile.variants.map((v) => v.name).join(', ')})`);
  return undefined;
}
