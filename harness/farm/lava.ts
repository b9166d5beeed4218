// LAVA, the farm engine KernelCI uses: the boots of a run as LAVA job
// definitions for its qemu device type, and the console back out of a LAVA
// job log. The guest has no shell, so the job's test action is a `monitors`
// one: it waits for the KTAP document's start and end and turns each
// top-level result line into a LAVA test case. kseries' verdicts come from
// the console itself (console/), as for a local boot, so LAVA's own case
// results are only a view. Pure. YAML is written as JSON, which YAML reads.

export interface LavaBoot {
  /** Job name. */
  name: string;
  kernelUrl: string;
  initrdUrl: string;
  /** qemu-system-* binary. */
  qemuBinary: string;
  /** The QEMU arguments other than -kernel/-initrd/-append (accel, machine, VM size). */
  qemuOptions: string[];
  /** The guest kernel command line. */
  cmdline: string;
  /** Minutes for the whole job, and for the boot (LAVA's allowance between two result lines). */
  jobMinutes: number;
  bootMinutes: number;
}

/** The KTAP document's first line and the init's last one (images/init.c). */
export const KTAP_START = 'KTAP version 1';
export const KTAP_END = 'kseries-init: done';

/**
 * Top-level result lines only (nested ones are indented). The lookahead waits
 * for the whole line and takes the name; "result" is SKIP for a "# SKIP" directive.
 */
export const RESULT_PATTERN = '\\n(?=(?:not )?ok \\d+ (?P<test_case_id>[^#\\r\\n]*[^#\\s])[^\\r\\n]*[\\r\\n])(?:(?:not )?ok \\d+ [^#\\r\\n]*# (?=SKIP))?(?P<result>SKIP|not ok|ok)';

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function lavaJob(b: LavaBoot): string {
  const job = {
    device_type: 'qemu',
    job_name: b.name,
    visibility: 'public',
    priority: 'medium',
    timeouts: { job: { minutes: b.jobMinutes }, action: { minutes: b.bootMinutes }, connection: { minutes: 2 } },
    context: { arch: 'x86_64' },
    actions: [
      {
        deploy: {
          to: 'tmpfs',
          timeout: { minutes: 2 },
          images: {
            // The command line rides on the kernel's image_arg: the qemu boot method has no key of its own for it.
            kernel: { url: b.kernelUrl, image_arg: `-kernel {kernel} -append ${shellQuote(b.cmdline)}` },
            // No "compression" key: the newc cpio is used as it is (LAVA adds no overlay to a tmpfs deploy).
            ramdisk: { url: b.initrdUrl, image_arg: '-initrd {ramdisk}' },
          },
        },
      },
      { boot: { method: 'qemu', media: 'tmpfs', timeout: { minutes: b.bootMinutes } } },
      {
        test: {
          timeout: { minutes: b.bootMinutes },
          monitors: [{ name: 'kseries-ktap', start: KTAP_START, end: KTAP_END, pattern: RESULT_PATTERN, fixupdict: { ok: 'pass', 'not ok': 'fail', SKIP: 'skip' } }],
        },
      },
    ],
  };
  return `# kseries: one boot as a LAVA job (lava-dispatcher 2023.01 and later). YAML, written as JSON.\n${JSON.stringify(job, null, 2)}\n`;
}

/**
 * A rendered device configuration for LAVA's qemu device type (what lava-run
 * reads; a LAVA server renders it from qemu.jinja2 and its device dictionary):
 * kseries' own QEMU arguments are the device's options.
 */
export function lavaDevice(qemuBinary: string, qemuOptions: readonly string[]): string {
  const device = {
    constants: {
      posix: { lava_test_sh_cmd: '/bin/sh', lava_test_results_dir: '/lava-%s', lava_test_shell_file: '~/.bashrc' },
      'shutdown-message': 'The system is going down for reboot NOW',
      'kernel-start-message': 'Linux version [0-9]',
      'default-shell-prompt': 'lava-test: # ',
      spawn_maxread: '4092',
      // Looked up for every action; 1 is "run once": a second boot is never a kseries result.
      failure_retry: 1,
      boot_retry: 1,
    },
    parameters: { pass: null },
    available_architectures: ['amd64', 'x86_64'],
    actions: {
      deploy: { connections: { serial: null }, methods: { image: { parameters: { guest: { size: 512, interface: 'ide', driveid: 'lavatest' } } } } },
      boot: {
        connections: { serial: null },
        methods: { qemu: { parameters: { command: qemuBinary, boot_options: { root: '/dev/sda1', console: 'ttyS0,115200', boot_order: 'c' }, options: [...qemuOptions] } } },
      },
    },
    timeouts: { actions: { 'apply-overlay-image': { minutes: 2 } } },
  };
  return `# kseries: LAVA qemu device (rendered). YAML, written as JSON.\n${JSON.stringify(device, null, 2)}\n`;
}

export function lavaDispatcher(): string {
  return `${JSON.stringify({ prefix: 'kseries-', dispatcher_ip: '127.0.0.1' }, null, 2)}\n`;
}

/** A lava-run job log: one flow mapping per line with "lvl" and "msg". */
export function isLavaLog(text: string): boolean {
  const first = text.split('\n', 5).find((l) => l.trim().startsWith('{'));
  return first !== undefined && /"lvl":\s*"/.test(first);
}

/** YAML double-quoted escapes JSON lacks (PyYAML writes control characters so). */
function yamlToJson(line: string): string {
  return line.replace(/\\(x[0-9a-fA-F]{2}|e|0|a|v|N|_|L|P)/g, (_m, e: string) => {
    const code = e.startsWith('x') ? parseInt(e.slice(1), 16) : { e: 0x1b, '0': 0, a: 7, v: 11, N: 0x85, _: 0xa0, L: 0x2028, P: 0x2029 }[e]!;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The serial console as LAVA recorded it: its "target" and "feedback" lines,
 * in order. A record that is not JSON even after the escapes (LAVA's own
 * "! tagged" values, never console text) is skipped.
 */
export function consoleFromLavaLog(text: string): string {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{') || !/"lvl":\s*"(?:target|feedback)"/.test(line)) continue;
    try {
      const rec = JSON.parse(yamlToJson(line)) as { lvl?: string; msg?: unknown };
      if ((rec.lvl === 'target' || rec.lvl === 'feedback') && typeof rec.msg === 'string') out.push(rec.msg);
    } catch {
      // not console text
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
