// Raw serial console text → clean, numbered lines.
//
// The QEMU runner writes the guest's serial output byte-for-byte to
// console.log; everything downstream works on the lines produced here.
// Line numbers are 1-based and count "\n"-terminated lines of the raw file,
// so a finding's `line` can be opened in an editor as-is.

export interface ConsoleLine {
  /** 1-based line number in the raw console text. */
  no: number;
  /** The line with \r, ANSI/VT escape sequences and control characters removed, trailing blanks trimmed. */
  text: string;
}

// Firmware (SeaBIOS/sgabios), the kernel's VT code and terminal resets emit
// escape sequences that end up glued to the next line of real output
// (typically "\x1b[2J\x1b[01;01HKTAP version 1"). Order matters: string
// sequences (OSC/DCS) first, then CSI, then the short two-byte forms.
const ESCAPE_SEQUENCES = new RegExp(
  [
    '\\x1b\\][^\\x07\\x1b]*(?:\\x07|\\x1b\\\\)?', // OSC … BEL | ST
    '\\x1b[PX^_][^\\x1b]*(?:\\x1b\\\\)?', // DCS/SOS/PM/APC … ST
    '\\x1b\\[[0-?]*[ -/]*[@-~]', // CSI (incl. private "\x1b[=3h")
    '\\x9b[0-?]*[ -/]*[@-~]', // 8-bit CSI
    '\\x1b[ -/]+[0-~]', // nF: charset designation "\x1b(B" etc.
    '\\x1b[0-~]', // Fp/Fe/Fs: "\x1bc" (reset), "\x1b7", "\x1bM" …
  ].join('|'),
  'g',
);

// Whatever control characters survive (NUL padding from the UART, BEL, a
// lone ESC, C1 controls, a bare \r used to overwrite a line). Tab is kept.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** Clean one raw line (without its "\n"): drop escapes, \r and control characters, trim the end. */
export function cleanConsoleText(raw: string): string {
  return raw.replace(ESCAPE_SEQUENCES, '').replace(CONTROL_CHARS, '').trimEnd();
}

/**
 * The kernel's console writes and the init's writes interleave, so a printk
 * can start in the middle of a line: "ok 2 readv_async[    0.827214] random:
 * fast init done". Such a line holds two: the part before the timestamp, and
 * the kernel message (same line number), or the TAP line would be misread.
 */
const GLUED_PRINTK = /^(.*\S)(\[\s*\d+\.\d{6}\] .*)$/;

export function unglue(line: ConsoleLine): ConsoleLine[] {
  const m = GLUED_PRINTK.exec(line.text);
  return m ? [{ no: line.no, text: m[1]! }, { no: line.no, text: m[2]! }] : [line];
}

/**
 * Incremental splitter for console output arriving in chunks (e.g. while
 * QEMU is still running). Escape sequences never span a newline, so each
 * line is cleaned only once it is complete.
 */
export class ConsoleLineSplitter {
  #partial = '';
  #next = 1;

  /** Feed a decoded chunk; returns the lines it completed. */
  push(chunk: string): ConsoleLine[] {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    return parts.flatMap(p => unglue({ no: this.#next++, text: cleanConsoleText(p) }));
  }

  /** Flush a final line that had no "\n" (output cut off mid-line). */
  end(): ConsoleLine[] {
    const rest = this.#partial;
    this.#partial = '';
    return rest === '' ? [] : unglue({ no: this.#next++, text: cleanConsoleText(rest) });
  }
}

/** Split a whole console log into clean, numbered lines. */
export function splitConsoleLines(raw: string): ConsoleLine[] {
  const splitter = new ConsoleLineSplitter();
  return [...splitter.push(raw), ...splitter.end()];
}
