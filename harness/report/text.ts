// Plain text for a reply on the list: at most 72 columns, wrapped at words,
// continuation lines hanging under their first. Pure.

/** The width of a line in mail on the kernel lists. */
export const WIDTH = 72;

/** Wrap one logical line to `width`, continuing under its indentation plus `hang` spaces. */
export function wrap(line: string, width = WIDTH, hang = 2): string[] {
  if (line.length <= width) return [line];
  const indent = /^ */.exec(line)![0];
  const cont = indent + ' '.repeat(hang);
  const words = line.slice(indent.length).split(/ +/);
  const out: string[] = [];
  let cur = indent;
  for (const w of words) {
    const lead = out.length === 0 ? indent : cont;
    if (cur.length > lead.length && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = cont + w;
    } else {
      cur = cur.length > lead.length ? `${cur} ${w}` : lead + w;
    }
    // A single word longer than the width is cut, so no line ever passes it.
    while (cur.length > width) {
      out.push(cur.slice(0, width));
      cur = cont + cur.slice(width);
    }
  }
  if (cur.trim()) out.push(cur);
  return out;
}

/** "label text", the text wrapped in the column after the label (whose spaces are kept). */
export function labelled(indent: string, label: string, text: string, width = WIDTH): string[] {
  const col = indent.length + label.length + 1;
  const body = wrap(`${' '.repeat(col)}${text}`, width, 0);
  return body.map((l, i) => (i === 0 ? `${indent}${label} ${l.slice(col)}` : l));
}

/** `s` with each local directory named by its role, longest first, e.g. "<run dir>/v1/build.log". */
export function hideLocalDirs(s: string, dirs: readonly { dir: string; name: string }[]): string {
  let out = s;
  for (const { dir, name } of [...dirs].filter((d) => d.dir.length > 1).sort((a, b) => b.dir.length - a.dir.length)) out = out.split(dir).join(`<${name}>`);
  return out;
}

/** A command line with each local path cut to its last component in <>: `--tree /src/linux` → `--tree <linux>`. */
export function publicCommand(argv: readonly string[]): string {
  const isPath = (s: string) => /^(?:\/|\.{1,2}\/|~\/)/.test(s);
  const cut = (s: string) => `<${s.replace(/\/+$/, '').split('/').pop() || 'dir'}>`;
  const safe = /^[\w@%+=:,./-]+$/;
  const q = (s: string) => (safe.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  return argv
    .map((a) => {
      const kv = /^([^=]+=)(.+)$/.exec(a);
      if (kv && isPath(kv[2]!)) return safe.test(kv[1]!) ? kv[1] + cut(kv[2]!) : q(kv[1] + cut(kv[2]!));
      return isPath(a) ? cut(a) : q(a);
    })
    .join(' ');
}
