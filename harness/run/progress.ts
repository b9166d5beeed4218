// Progress for long stages: timestamped stage lines always; on a TTY a live
// line that rewrites itself, otherwise a plain line now and then.

export interface ProgressSink {
  write(s: string): unknown;
}

export function clock(d = new Date()): string {
  return d.toISOString().slice(11, 19);
}

export class Progress {
  private liveShown = false;
  private lastPlain = 0;
  /** The stage running now (tree, series, apply, build, image, boot, console): what an interrupted run reports. */
  current: string | undefined;

  constructor(
    private readonly out: ProgressSink,
    private readonly tty: boolean,
    /** Minimum gap between plain (non-TTY) live updates. */
    private readonly plainEveryMs = 20000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A stage starts; shown by its own stage() lines, recorded for an interrupt. */
  begin(name: string): void {
    this.current = name;
  }

  stage(name: string, msg: string): void {
    this.clearLive();
    this.out.write(`[${clock(this.now())}] ${name}: ${msg}\n`);
  }

  /** A transient status such as "build: 812 objects, 1m12s". */
  live(name: string, msg: string): void {
    if (this.tty) {
      this.out.write(`\r\x1b[K[${clock(this.now())}] ${name}: ${msg}`);
      this.liveShown = true;
      return;
    }
    const t = this.now().getTime();
    if (t - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = t;
      this.out.write(`[${clock(this.now())}] ${name}: ${msg}\n`);
    }
  }

  clearLive(): void {
    if (this.liveShown) {
      this.out.write('\r\x1b[K');
      this.liveShown = false;
    }
  }
}

/**
 * Counts a guest's top-level KTAP results as its console arrives, for the live boot line:
 * "boot: 3/12 probes, 4.1s". Only for display: the console stage parses the log itself.
 */
export class BootCounter {
  private rest = '';
  planned: number | undefined;
  done = 0;

  feed(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const raw of lines) {
      // Escape codes glued to the first line go; indentation stays (nested results are not counted).
      const l = raw.replace(/\r$/, '').replace(/^(?:\x1b\[[0-9;=?]*[A-Za-z])+/, '');
      const plan = /^1\.\.(\d+)\s*$/.exec(l);
      if (plan && this.planned === undefined) this.planned = Number(plan[1]);
      else if (/^(?:not )?ok \d+ /.test(l)) this.done++;
    }
  }

  describe(ms: number, formatDuration: (ms: number) => string): string {
    return `${this.done}${this.planned !== undefined ? `/${this.planned}` : ''} probe${this.planned === 1 ? '' : 's'} reported, ${formatDuration(ms)}`;
  }
}
