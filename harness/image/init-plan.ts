// The plan the guest init runs: one line per probe × ABI or user command.
// Format (read by images/init-plan.c): ID<TAB>TIMEOUT_SECONDS<TAB>UID<TAB>CWD<TAB>ARGV0<TAB>ARGV1...

export interface PlanEntry {
  id: string;
  timeoutSec: number;
  uid: number;
  /** Absolute guest directory the entry runs in; "/" when absent. */
  cwd?: string;
  argv: string[];
}

export function formatPlan(entries: PlanEntry[]): string {
  const lines = ['# kseries plan: ID TIMEOUT UID CWD ARGV...'];
  for (const e of entries) {
    const cwd = e.cwd ?? '/';
    for (const f of [e.id, cwd, ...e.argv]) {
      if (/[\t\n]/.test(f)) throw new Error(`plan field '${f}' contains a tab or newline`);
    }
    if (!cwd.startsWith('/')) throw new Error(`plan entry '${e.id}': cwd '${cwd}' is not an absolute path`);
    lines.push([e.id, String(e.timeoutSec), String(e.uid), cwd, ...e.argv].join('\t'));
  }
  return lines.join('\n') + '\n';
}

/**
 * Split an --exec command as a POSIX shell would for words and quotes only
 * (the guest has no shell): 'a "b c" d\'e\'' → [a, b c, de].
 */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length && '"\\$`'.includes(cmd[i + 1]!)) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in command: ${cmd}`);
  if (inWord) words.push(cur);
  return words;
}

/** A plan id for a user command: exec:<program name>, made unique with a suffix. */
export function execId(argv0: string, taken: Set<string>): string {
  const base = `exec:${argv0.split('/').pop() || 'cmd'}`;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}.${n}`;
  taken.add(id);
  return id;
}
