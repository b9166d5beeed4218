// Recognising kernel log lines: printk timestamps and /dev/kmsg record
// prefixes. Shared by the KTAP extractor (which must drop or strip them)
// and the crash classifier (which matches on the bare message).

// "[   12.345678] " (CONFIG_PRINTK_TIME), optionally followed by a caller id
// "[    T57] " (CONFIG_PRINTK_CALLER). Exactly one space is consumed so the
// indentation of KTAP printed through printk (KUnit) survives.
const PRINTK_TIMESTAMP = /^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?/;

/** True if the line starts with a printk timestamp. */
export function hasPrintkTimestamp(text: string): boolean {
  return PRINTK_TIMESTAMP.test(text);
}

/** The line without its leading printk timestamp, or undefined if it has none. */
export function stripPrintkTimestamp(text: string): string | undefined {
  const m = PRINTK_TIMESTAMP.exec(text);
  return m ? text.slice(m[0].length) : undefined;
}

/**
 * The bare kernel message: strips leading blanks, a syslog level "<4>", a
 * /dev/kmsg record header "4,123,456789,-;" and a printk timestamp, in the
 * forms the console and the init's "# kmsg: " echo produce.
 */
export function kernelMessage(text: string): string {
  let t = text.trimStart();
  t = t.replace(/^<\d+>/, '');
  t = t.replace(/^\d+,\d+,\d+,[^;]*;/, '');
  t = stripPrintkTimestamp(t) ?? t;
  return t.trim();
}
