// From the series options to what the pipeline needs: the profile (if any)
// and the tree to use (the variant's plan: variant/plan.ts).
import type { TreeSpec } from '../kernel/tree.ts';
import { loadProfile, type Profile } from '../profile/profile.ts';
import { usageError } from '../util/errors.ts';
import type { SeriesChoice } from '../variant/plan.ts';
import { profilePath, treeSpecFrom } from './options.ts';

export interface SeriesArgs extends SeriesChoice {
  tree?: string;
  tarball?: string;
  sha256?: string;
  profile?: string;
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
