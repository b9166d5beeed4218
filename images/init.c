/*
 * init.c - kseries guest PID 1.
 *
 * Runs the entries of /kseries/plan one after another and reports them as
 * one KTAP v1 document on /dev/console (the serial port the host reads):
 *
 *     KTAP version 1
 *     # kseries-init: uname 5.9.0 x86_64
 *     1..2
 *         KTAP version 1
 *         # Subtest: readv_writev:compat
 *         1..5                 <- the child's own KTAP, indented 4 spaces
 *         ok 1 create_file
 *         ...
 *         # kseries-init: pid 52 exit status 0 after 0.01 s
 *         # kmsg: <kernel log record logged while it ran>
 *     ok 1 readv_writev:compat
 *     ...
 *     # kseries-init: done
 *
 * Child output (init-nest.c): stdout and stderr share one pipe; (K)TAP
 * lines are indented by 4, anything else becomes "    # <line>", and the
 * child's first version line is swallowed. The result line says how it
 * ended: ok, SKIP, not ok with the exit status, signal, TIMEOUT, exec
 * failure or bad plan entry (the table is in init-supervise.c).
 *
 * Plan format (init-plan.c): one entry per line, '#' lines and blank lines
 * ignored, TAB-separated fields:  ID  TIMEOUT_SECONDS  UID  ARGV0  [ARGV1 ...]
 *
 * PID 1 must never exit (the kernel panics), so every fatal error becomes
 * "Bail out! <reason>" followed by a power-off.
 *
 * Test mode (-DKSERIES_INIT_TESTING, "make -C images testing"): runs as an
 * ordinary host program. The plan path comes from $KSERIES_PLAN (default
 * /kseries/plan), output goes to stdout, nothing is mounted, kernel log
 * records are read only if $KSERIES_KMSG names a kmsg device, the process
 * becomes a child subreaper (to reap orphans like PID 1 does) and it exits
 * (status 0, or 1 after a bail-out) instead of powering off.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "init.h"

/* ------------------------------------------------------------ early setup */

static void mount_one(const char *src, const char *dir, const char *type,
		      unsigned long flags, const char *data)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		out("# kseries-init: mkdir %s: %s", dir, strerror(errno));
	/* EBUSY: already mounted (e.g. devtmpfs with CONFIG_DEVTMPFS_MOUNT). */
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		out("# kseries-init: mount %s on %s: %s", type, dir, strerror(errno));
}

static void setup_system(void)
{
	if (TESTING) {
		/* Adopt orphaned grandchildren, as PID 1 would. */
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		return;
	}
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* The kernel does not mount devtmpfs by itself when booting an initramfs. */
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	/* World-writable so probes running under a non-zero UID can use it. */
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 0);
}

/* ------------------------------------------------------------------ main */

int main(void)
{
	const char *plan_path = PLAN_PATH;
	struct entry *entries;
	struct utsname u;
	int n, i;

	open_console();
	/*
	 * The firmware/bootloader leaves escape sequences and the cursor
	 * mid-line on the serial console; start on a fresh line so the host
	 * sees our first line intact.
	 */
	out_write("\n", 1);
	/* A closed pipe must not kill PID 1; children get SIG_DFL back. */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Header first: setup problems (mount failures, no kmsg) and the uname
	 * line are then diagnostics inside the document, before the plan.
	 */
	out("KTAP version 1");
	setup_system();
	open_kmsg();
	if (uname(&u) == 0)
		out("# kseries-init: uname %s %s", u.release, u.machine);
	if (TESTING && getenv("KSERIES_PLAN"))
		plan_path = getenv("KSERIES_PLAN");
	n = read_plan(plan_path, &entries);
	out("1..%d", n);
	for (i = 0; i < n; i++)
		run_entry(i + 1, &entries[i]);
	out("# kseries-init: done");
	power_off(0);
	return 0; /* not reached */
}
