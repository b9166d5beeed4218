// Kconfig as a value (after kunit_config.py): parse, merge, and check that
// every requested option survived olddefconfig.

/** Option name (with CONFIG_ prefix) → value: 'y', 'm', 'n' (for "is not set"), or the raw string/number. */
export type Kconfig = Map<string, string>;

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseKconfig(text: string): Kconfig {
  const out: Kconfig = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set) {
      out.set(set[1]!, set[2]!);
      continue;
    }
    const unset = UNSET.exec(line);
    if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

/** Lines parseKconfig would silently skip although they are not blank or a comment: typos in a fragment. */
export function kconfigSyntaxErrors(text: string): { line: number; text: string }[] {
  return text.split('\n').flatMap((raw, i) => {
    const line = raw.trim();
    return line === '' || line.startsWith('#') || SET.test(line) ? [] : [{ line: i + 1, text: line }];
  });
}

/** Parse a `--kconfig` argument: CONFIG_X=y, X=y, CONFIG_X=n, X=m, X="string". */
export function parseKconfigArg(arg: string): [string, string] {
  const m = /^(?:CONFIG_)?([A-Za-z0-9_]+)=(.+)$/.exec(arg.trim());
  if (!m) throw new Error(`bad --kconfig '${arg}': expected CONFIG_NAME=value`);
  return [`CONFIG_${m[1]!}`, m[2]!];
}

/** Later configs win. */
export function mergeKconfig(...configs: Kconfig[]): Kconfig {
  const out: Kconfig = new Map();
  for (const c of configs) for (const [k, v] of c) out.set(k, v);
  return out;
}

export function formatKconfig(c: Kconfig): string {
  return [...c].map(([k, v]) => (v === 'n' ? `# ${k} is not set` : `${k}=${v}`)).join('\n') + '\n';
}

/**
 * Options renamed upstream: the current name → the name older trees declare.
 * Fragments name the current one; on a tree that declares only the old name,
 * the old one is requested in its place (withDeclaredNames), so one base
 * fragment configures 5.9 and 6.1 alike. 5.9 declares X86_X32, 6.1 X86_X32_ABI.
 */
export const KCONFIG_RENAMES: Readonly<Record<string, string>> = Object.freeze({
  CONFIG_X86_X32_ABI: 'CONFIG_X86_X32',
});

const bare = (option: string) => option.replace(/^CONFIG_/, '');

/** The renamed options of `requested` whose names a tree must be asked about: current and old, without CONFIG_. */
export function renameQuestions(requested: Kconfig): string[] {
  return [...requested.keys()].filter((k) => k in KCONFIG_RENAMES).flatMap((k) => [bare(k), bare(KCONFIG_RENAMES[k]!)]);
}

/**
 * Pure: `requested` with each renamed option under the name the tree declares
 * (`declared` takes a name without CONFIG_), in the same place. A current name
 * the tree lacks moves to the old name when the tree declares that one and it
 * was not requested itself; otherwise nothing changes, and a dropped option is
 * reported as usual.
 */
export function withDeclaredNames(requested: Kconfig, declared: (name: string) => boolean): { config: Kconfig; renamed: [from: string, to: string][] } {
  const renamed: [string, string][] = [];
  const config: Kconfig = new Map();
  for (const [k, v] of requested) {
    const old = KCONFIG_RENAMES[k];
    if (old !== undefined && !declared(bare(k)) && declared(bare(old)) && !requested.has(old)) {
      config.set(old, v);
      renamed.push([k, old]);
    } else config.set(k, v);
  }
  return { config, renamed };
}

export interface Dropped {
  option: string;
  requested: string;
  /** What olddefconfig left: 'n' when absent or unset. */
  actual: string;
}

/** Options whose requested value is not what the final .config holds (an absent option counts as 'n'). */
export function findDropped(requested: Kconfig, actual: Kconfig): Dropped[] {
  const dropped: Dropped[] = [];
  for (const [option, want] of requested) {
    const got = actual.get(option) ?? 'n';
    if (got !== want) dropped.push({ option, requested: want, actual: got });
  }
  return dropped;
}

export function describeDropped(d: Dropped[]): string {
  return d.map((x) => `${x.option}=${x.requested} (got ${x.actual === 'n' ? 'not set' : x.actual})`).join(', ');
}
