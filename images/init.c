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
 *         # kmsg: <kernel log record, printed as it was logged>
 *         ...
 *         # kseries-init: pid 52 exit status 0 after 0.01 s
 *         # kmsg: <record logged as it ended>
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
 * ignored, TAB-separated fields:  ID  TIMEOUT_SECONDS  UID  CWD  ARGV0  [ARGV1 ...]
 * (CWD: the absolute directory the entry runs in; the harness writes "/"
 * unless told otherwise).
 *
 * The guest gets /proc, /sys, devtmpfs on /dev with the /dev/fd and
 * /dev/std{in,out,err} links, devpts, a tmpfs /tmp, and debugfs and
 * cgroup2 when the kernel has them.
 *
 * PID 1 must never exit (the kernel panics), so every fatal error becomes
 * "Bail out! <reason>" followed by a power-off.
 *
 * Test mode (-DKSERIES_INIT_TESTING, "make -C images testing"): runs as an
 * ordinary host program. The plan path comes from $KSERIES_PLAN (default
 * /kseries/plan), output goes to stdout, nothing is mounted, kernel log
 * records are read only if $KSERIES_KMSG names a kmsg device (or a FIFO
 * fed with kmsg-formatted records), the process
 * becomes a child subreaper (to reap orphans like PID 1 does) and it exits
 * (status 0, or 1 after a bail-out) instead of powering off.
 */
#include <errno.h>
#include <fcntl.h>
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

/* Is filesystem `type` in /proc/filesystems ("nodev\tproc\n", "\text4\n")? */
static int fs_available(const char *type)
{
	char buf[8192], *line, *next;
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	for (line = buf; *line; line = next) {
		char *name;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		name = strchr(line, '\t');
		if (name && strcmp(name + 1, type) == 0)
			return 1;
	}
	return 0;
}

static void mount_if_available(const char *dir, const char *type,
			       unsigned long flags, const char *data)
{
	if (fs_available(type))
		mount_one(type, dir, type, flags, data);
}

/* What a shell's redirections and "-" file arguments expect to find. */
static void dev_links(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			out("# kseries-init: symlink %s: %s", links[i][1], strerror(errno));
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
	dev_links();
	/* Only what this kernel has: a small config must not print noise. */
	mount_if_available("/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			   "mode=0620,ptmxmode=0666");
	mount_if_available("/sys/kernel/debug", "debugfs",
			   MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_if_available("/sys/fs/cgroup", "cgroup2",
			   MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
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
