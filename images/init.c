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
 * Child output: stdout and stderr share one pipe, read line by line. Lines
 * that are (K)TAP by grammar (after any leading spaces) are indented by 4;
 * anything else is printed as "    # <line>". The child's first version line
 * is swallowed (init printed the subtest's own). Result lines:
 *     exit 0            ok N ID
 *     exit 4            ok N ID # SKIP <last SKIP reason it printed | probe skipped>
 *     exit 0 or 4, but a "not ok" in its output (any depth, not SKIP/TODO)
 *                       not ok N ID # exit status S but its TAP has: not ok ...
 *     other exit        not ok N ID # exit status S
 *     signal            not ok N ID # killed by signal S (SIGNAME)
 *     timeout           not ok N ID # TIMEOUT after T s
 *     exec/setuid fail  not ok N ID # exec failed: [setuid U: ]<strerror>
 *     bad plan line     not ok N ID # bad plan entry: <why>
 *
 * Plan format: one entry per line, '#' lines and blank lines ignored,
 * TAB-separated fields:  ID  TIMEOUT_SECONDS  UID  ARGV0  [ARGV1 ...]
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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef KSERIES_INIT_TESTING
#define TESTING 1
#else
#define TESTING 0
#endif

#define PLAN_PATH "/kseries/plan"
#define PLAN_MAX (1024 * 1024)
#define CHILD_LINE_MAX 4096     /* longer child lines are split */
#define KMSG_RECORD_MAX 16384   /* read() of /dev/kmsg needs room for a whole record */
#define KMSG_MAX_RECORDS 20000  /* per drain, so a printk storm cannot stall us */
#define EOF_GRACE_MS 2000       /* after the child exited: wait for the pipe to close */
#define KILL_GRACE_MS 5000      /* after SIGKILL: wait for the child to be reaped */
#define POLL_SLICE_MS 100       /* upper bound between two waitpid() checks */

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

static int out_fd = STDOUT_FILENO;
static int kmsg_fd = -1;

/* ---------------------------------------------------------------- output */

static void out_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(out_fd, buf, len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Print one line (a newline is appended) with a single write(2). */
static PRINTF(1, 2) void out(const char *fmt, ...)
{
	char buf[CHILD_LINE_MAX + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	out_write(buf, (size_t)n);
}

static void power_off(int status)
{
	if (TESTING)
		exit(status);
	sync();
	/*
	 * A restart ends QEMU under -no-reboot and, unlike a power-off, needs
	 * neither ACPI nor PCI in the kernel. The host tells it from an
	 * unexpected reboot by the "done" line printed before it.
	 */
	reboot(RB_AUTOBOOT);
	/* Still here: nothing else we can do, and PID 1 must not exit. */
	out("# kseries-init: reboot(RB_AUTOBOOT) failed: %s", strerror(errno));
	for (;;)
		pause();
}

static PRINTF(1, 2) void bail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("Bail out! %s", buf);
	power_off(1);
}

/* Replace control characters (escape sequences, stray CRs, NULs) by '?'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = (*s == '\t') ? ' ' : '?';
}

static const char *signame(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
#define S(s) { s, #s }
		S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGTRAP),
		S(SIGABRT), S(SIGBUS), S(SIGFPE), S(SIGKILL), S(SIGUSR1),
		S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM), S(SIGTERM),
		S(SIGSTKFLT), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP),
		S(SIGTTIN), S(SIGTTOU), S(SIGURG), S(SIGXCPU), S(SIGXFSZ),
		S(SIGVTALRM), S(SIGPROF), S(SIGWINCH), S(SIGIO), S(SIGPWR),
		S(SIGSYS),
#undef S
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "SIG?";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void open_console(void)
{
	int fd;

	if (TESTING)
		return; /* stdout */
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* No node in the initramfs? devtmpfs has one. */
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
		fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	/* Else keep fd 1, which the kernel pointed at the console if it could. */
	if (fd >= 0)
		out_fd = fd;
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

static void open_kmsg(void)
{
	const char *path = "/dev/kmsg";

	if (TESTING) {
		path = getenv("KSERIES_KMSG");
		if (!path || !*path)
			return;
	}
	kmsg_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0) {
		out("# kseries-init: open %s: %s", path, strerror(errno));
		return;
	}
	/* Skip the boot log: only messages logged while probes run are wanted. */
	lseek(kmsg_fd, 0, SEEK_END);
}

/*
 * Print every kernel log record logged since the last call as
 * "    # kmsg: <message>". A record reads as "prio,seq,ts,flags;message\n"
 * followed by optional " KEY=value\n" dictionary lines, which are dropped.
 */
static void drain_kmsg(void)
{
	static char rec[KMSG_RECORD_MAX + 1];
	int i;

	if (kmsg_fd < 0)
		return;
	for (i = 0; i < KMSG_MAX_RECORDS; i++) {
		ssize_t n = read(kmsg_fd, rec, KMSG_RECORD_MAX);
		char *msg, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* Ring buffer overran us; the next read resumes at the oldest record. */
			out("    # kseries-init: kmsg overrun, some messages were lost");
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			out("    # kseries-init: read kmsg: %s", strerror(errno));
		if (n <= 0)
			return;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		sanitize(msg);
		out("    # kmsg: %s", msg);
	}
	out("    # kseries-init: kmsg: stopped after %d records", KMSG_MAX_RECORDS);
}

/* ------------------------------------------------------------------ plan */

struct entry {
	char *id;
	int timeout_s;
	unsigned uid;
	char **argv;
	const char *error; /* non-NULL: malformed line, reported as "not ok" */
	int lineno;
};

static int parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*val = strtoul(s, &end, 10);
	return (errno || *end || *val > max) ? -1 : 0;
}

static void parse_line(char *line, int lineno, struct entry *e)
{
	char *fields[256];
	unsigned long v;
	int n = 0, i;
	char *p = line;

	memset(e, 0, sizeof(*e));
	e->lineno = lineno;
	for (;;) {
		char *tab = strchr(p, '\t');

		if (n < (int)(sizeof(fields) / sizeof(fields[0])) - 1)
			fields[n++] = p;
		if (!tab)
			break;
		*tab = 0;
		p = tab + 1;
	}
	e->id = fields[0];
	if (!*e->id) {
		static char fallback[32];

		snprintf(fallback, sizeof(fallback), "plan-line-%d", lineno);
		e->id = strdup(fallback);
	}
	if (n < 4) {
		e->error = "expected ID, TIMEOUT, UID, ARGV0 separated by tabs";
		return;
	}
	if (parse_uint(fields[1], 24 * 3600, &v) < 0 || v == 0) {
		e->error = "TIMEOUT_SECONDS must be a positive integer";
		return;
	}
	e->timeout_s = (int)v;
	if (parse_uint(fields[2], UINT_MAX - 1, &v) < 0) {
		e->error = "UID must be a non-negative integer";
		return;
	}
	e->uid = (unsigned)v;
	if (!*fields[3]) {
		e->error = "empty ARGV0";
		return;
	}
	e->argv = calloc((size_t)n - 2, sizeof(char *));
	if (!e->argv)
		bail("out of memory");
	for (i = 3; i < n; i++)
		e->argv[i - 3] = fields[i];
	e->argv[n - 3] = NULL;
}

/* Returns the number of entries; *entries is malloc'ed. Bails out on error. */
static int read_plan(const char *path, struct entry **entries)
{
	char *buf, *line, *next;
	int fd, count = 0, lineno = 0;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			bail("no %s", path);
		bail("cannot open %s: %s", path, strerror(errno));
	}
	buf = malloc(PLAN_MAX + 1);
	if (!buf)
		bail("out of memory");
	for (;;) {
		ssize_t n = read(fd, buf + len, PLAN_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bail("cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == PLAN_MAX)
			bail("%s is larger than %d bytes", path, PLAN_MAX);
	}
	close(fd);
	buf[len] = 0;

	*entries = NULL;
	for (line = buf; line && *line; line = next) {
		struct entry *grown;
		size_t l;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = 0;
		if (line[0] == '#' || strspn(line, " \t") == l)
			continue;
		grown = realloc(*entries, (size_t)(count + 1) * sizeof(**entries));
		if (!grown)
			bail("out of memory");
		*entries = grown;
		parse_line(line, lineno, &(*entries)[count++]);
	}
	return count;
}

/* ---------------------------------------------------------- child output */

struct child_out {
	char line[CHILD_LINE_MAX + 1];
	size_t len;
	int seen_version;   /* its "KTAP version 1" line was swallowed */
	int seen_body;      /* a plan or result line was printed */
	int point_indent;   /* indent of the last test point, -1 if not just after one */
	int yaml_indent;    /* inside a TAP 13 YAML block at this indent, else -1 */
	char skip_reason[512];
	char not_ok[256];   /* first "not ok" it printed at any depth, "" if none */
};

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_test_point(const char *s)
{
	return (starts_with(s, "ok") && (s[2] == 0 || s[2] == ' ')) ||
	       (starts_with(s, "not ok") && (s[6] == 0 || s[6] == ' '));
}

/*
 * Is `s` (indentation already stripped) a (K)TAP line by grammar? Test
 * points, plans ("1..N"), "#" comments, version lines, "Bail out!" and
 * pragmas. Anything else is a program's plain output.
 */
static int is_tap_body(const char *s)
{
	const char *p = s;

	if (is_test_point(s) || s[0] == '#' ||
	    starts_with(s, "KTAP version ") || starts_with(s, "TAP version ") ||
	    strncasecmp(s, "Bail out!", 9) == 0 ||
	    starts_with(s, "pragma +") || starts_with(s, "pragma -"))
		return 1;
	/* plan: "1..N", optionally followed by " # directive" */
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s || !starts_with(p, "..") || !isdigit((unsigned char)p[2]))
		return 0;
	p += 2;
	while (isdigit((unsigned char)*p))
		p++;
	p += strspn(p, " ");
	return *p == 0 || (*p == '#' && p[-1] == ' ');
}

/* Remember the reason of "ok N name # SKIP reason" / "1..0 # SKIP reason". */
static void note_skip(struct child_out *c, const char *s)
{
	const char *d;

	if (!starts_with(s, "ok ") && !starts_with(s, "1..0"))
		return;
	d = strcasestr(s, "# SKIP");
	if (!d)
		return;
	d += strlen("# SKIP");
	d += strspn(d, " ");
	if (*d)
		snprintf(c->skip_reason, sizeof(c->skip_reason), "%s", d);
}

/*
 * Remember the first "not ok" the child printed at any depth: indented
 * subtests, or nested TAP printed as "# " comments (kselftest's runner says
 * "ok" for a test that exits 0 whatever its own TAP said). SKIP and TODO
 * directives excuse it. Only the description up to its directive is kept.
 */
static void note_not_ok(struct child_out *c, const char *s)
{
	const char *d;

	while (*s == '#' || *s == ' ')
		s++;
	if (c->not_ok[0] || !starts_with(s, "not ok") || (s[6] && s[6] != ' '))
		return;
	for (d = strchr(s, '#'); d; d = strchr(d + 1, '#')) {
		const char *k = d + 1 + strspn(d + 1, " ");

		if (d[-1] != ' ')
			continue;
		if (strncasecmp(k, "SKIP", 4) == 0 || strncasecmp(k, "TODO", 4) == 0)
			return;
		break; /* another directive: still a failure */
	}
	snprintf(c->not_ok, sizeof(c->not_ok), "%.*s",
		 (int)(d ? (size_t)(d - 1 - s) : strlen(s)), s);
}

/*
 * One line of child output. TAP lines (at any indentation: nested subtests)
 * are re-indented by 4 spaces under the subtest init opened; TAP 13 YAML
 * blocks under a test point are kept as they are; every other line becomes
 * a "# " diagnostic so plain program output survives without breaking the
 * document.
 */
static void child_line(struct child_out *c, char *s)
{
	size_t l = strlen(s);
	int indent;

	/* CRLF endings and trailing blanks would spoil plan/result matching */
	while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = 0;
	sanitize(s);
	indent = (int)strspn(s, " ");

	if (c->yaml_indent >= 0) {
		if (indent >= c->yaml_indent && s[indent]) {
			if (indent == c->yaml_indent && strcmp(s + indent, "...") == 0)
				c->yaml_indent = -1;
			out("    %s", s);
			return;
		}
		c->yaml_indent = -1; /* unterminated block: back to normal */
	}
	if (c->point_indent >= 0 && indent == c->point_indent + 2 &&
	    strcmp(s + indent, "---") == 0) {
		c->yaml_indent = indent;
		c->point_indent = -1;
		out("    %s", s);
		return;
	}
	c->point_indent = -1;

	/* init printed "    KTAP version 1" for the subtest already */
	if (!c->seen_version && !c->seen_body && indent == 0 &&
	    (starts_with(s, "KTAP version ") || starts_with(s, "TAP version "))) {
		c->seen_version = 1;
		return;
	}
	if (!s[indent]) {
		out("    #");
	} else if (is_tap_body(s + indent)) {
		if (is_test_point(s + indent))
			c->point_indent = indent;
		note_not_ok(c, s + indent);
		if (indent == 0 && s[0] != '#') {
			c->seen_body = 1;
			note_skip(c, s);
		}
		out("    %s", s);
	} else {
		out("    # %s", s);
	}
}

static void child_bytes(struct child_out *c, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || c->len == CHILD_LINE_MAX) {
			c->line[c->len] = 0;
			child_line(c, c->line);
			c->len = 0;
			if (buf[i] == '\n')
				continue;
		}
		c->line[c->len++] = buf[i] ? buf[i] : '?';
	}
}

static void child_flush(struct child_out *c)
{
	if (c->len) {
		c->line[c->len] = 0;
		child_line(c, c->line);
		c->len = 0;
	}
}

/* Read what is available on the child's pipe. Returns 0 at EOF, else 1. */
static int read_child(int fd, struct child_out *c)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	if (n == 0)
		return 0;
	child_bytes(c, buf, (size_t)n);
	return 1;
}

/* ------------------------------------------------------------ run entries */

/* What the child reports through the CLOEXEC error pipe if it cannot exec. */
struct exec_error {
	char what[64];
	int err;
};

static __attribute__((noreturn)) void child_exec(const struct entry *e,
						 int out_w, int err_w)
{
	struct exec_error xe;
	sigset_t none;
	int fd;

	/* Own session and process group, so a timeout can kill all of it. */
	setsid();
	dup2(out_w, STDOUT_FILENO);
	dup2(out_w, STDERR_FILENO);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	} else if (fd < 0) {
		close(STDIN_FILENO);
	}
	/* SIG_IGN survives exec; give the program default dispositions. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	memset(&xe, 0, sizeof(xe));
	if (e->uid != 0) {
		if (setgroups(0, NULL) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setgroups");
			goto fail;
		}
		if (setgid(e->uid) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setgid %u", e->uid);
			goto fail;
		}
		if (setuid(e->uid) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setuid %u", e->uid);
			goto fail;
		}
	}
	execvp(e->argv[0], e->argv);
	xe.what[0] = 0; /* the exec itself */
fail:
	xe.err = errno;
	if (write(err_w, &xe, sizeof(xe)) < 0) {
		/* nothing to do: the parent reports the exit status instead */
	}
	_exit(127);
}

/* Reap every exited child (adopted orphans too); note `pid`'s status. */
static void reap(pid_t pid, int *done, int *status, int64_t *done_at)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p <= 0)
			return;
		if (p == pid && !*done) {
			*done = 1;
			*status = st;
			*done_at = now_ms();
		}
	}
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL); /* the child's process group (setsid) */
	kill(pid, SIGKILL);  /* in case it had not reached setsid() yet */
}

/* Run plan entry number n (1-based) and print its subtest and result line. */
static void run_entry(int n, const struct entry *e)
{
	static struct child_out co;
	struct exec_error xe;
	int outp[2], errp[2];
	int done = 0, status = 0, timed_out = 0, exec_failed = 0, stuck = 0;
	int killed_leftovers = 0;
	int64_t start, deadline, done_at = 0;
	pid_t pid;

	out("    KTAP version 1");
	out("    # Subtest: %s", e->id);
	if (e->error) {
		out("    # kseries-init: plan line %d: %s", e->lineno, e->error);
		out("not ok %d %s # bad plan entry: %s", n, e->id, e->error);
		return;
	}

	memset(&co, 0, sizeof(co));
	co.point_indent = co.yaml_indent = -1;
	memset(&xe, 0, sizeof(xe));
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		bail("pipe: %s", strerror(errno));
	start = now_ms();
	deadline = start + (int64_t)e->timeout_s * 1000;
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(e, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);

	/*
	 * Forward output until the pipe closes and the child is reaped, or the
	 * deadline passes. poll() is capped at POLL_SLICE_MS so the exit of a
	 * child whose pipe stays open (inherited by a grandchild) is noticed.
	 */
	for (;;) {
		struct pollfd pfd[2];
		int nfds = 0, wait_ms;
		int64_t now, until;

		reap(pid, &done, &status, &done_at);
		if (done && !killed_leftovers) {
			/* Background leftovers of a finished child may hold the pipe. */
			kill_group(pid);
			killed_leftovers = 1;
		}
		now = now_ms();
		if (done && outp[0] < 0 && errp[0] < 0)
			break;
		if (done && now >= done_at + EOF_GRACE_MS) {
			out("    # kseries-init: output pipe still open %d ms after exit; closing it",
			    EOF_GRACE_MS);
			break;
		}
		if (!done && now >= deadline) {
			timed_out = 1;
			break;
		}
		until = done ? done_at + EOF_GRACE_MS : deadline;
		wait_ms = (int)(until - now < POLL_SLICE_MS ? until - now : POLL_SLICE_MS);
		if (outp[0] >= 0) {
			pfd[nfds].fd = outp[0];
			pfd[nfds++].events = POLLIN;
		}
		if (errp[0] >= 0) {
			pfd[nfds].fd = errp[0];
			pfd[nfds++].events = POLLIN;
		}
		if (nfds == 0) {
			/* pipes closed, child not reaped yet */
			poll(NULL, 0, wait_ms < 10 ? wait_ms : 10);
			continue;
		}
		if (poll(pfd, (nfds_t)nfds, wait_ms) <= 0)
			continue;
		if (outp[0] >= 0 && pfd[0].revents) {
			if (!read_child(outp[0], &co)) {
				close(outp[0]);
				outp[0] = -1;
			}
		}
		if (errp[0] >= 0 && pfd[nfds - 1].revents) {
			/* EOF without data: exec succeeded (CLOEXEC) or the child died. */
			if (read(errp[0], &xe, sizeof(xe)) == (ssize_t)sizeof(xe))
				exec_failed = 1;
			close(errp[0]);
			errp[0] = -1;
		}
	}

	/*
	 * Kill whatever is left in the child's process group (everything on a
	 * timeout) and give it KILL_GRACE_MS to be reaped, forwarding any output
	 * it wrote before dying. A task stuck in the kernel (D state) ignores
	 * SIGKILL: report it and move on rather than hang.
	 */
	kill_group(pid);
	if (!done) {
		int64_t kill_deadline = now_ms() + KILL_GRACE_MS;

		while (!done && now_ms() < kill_deadline) {
			if (outp[0] >= 0) {
				struct pollfd p = { .fd = outp[0], .events = POLLIN };

				if (poll(&p, 1, 10) > 0 && !read_child(outp[0], &co)) {
					close(outp[0]);
					outp[0] = -1;
				}
			} else {
				poll(NULL, 0, 10);
			}
			reap(pid, &done, &status, &done_at);
		}
		if (!done) {
			stuck = 1;
			out("    # kseries-init: pid %d did not die within %d ms of SIGKILL",
			    (int)pid, KILL_GRACE_MS);
		}
	}
	/* Whatever is still buffered in the pipe (bounded: a writer may linger). */
	if (outp[0] >= 0) {
		int i;

		fcntl(outp[0], F_SETFL, O_NONBLOCK);
		for (i = 0; i < 256 && read_child(outp[0], &co); i++)
			;
		close(outp[0]);
	}
	if (errp[0] >= 0) {
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
		if (read(errp[0], &xe, sizeof(xe)) == (ssize_t)sizeof(xe))
			exec_failed = 1;
		close(errp[0]);
	}
	child_flush(&co);

	if (done) {
		int64_t ms = done_at - start;

		if (WIFSIGNALED(status))
			out("    # kseries-init: pid %d killed by signal %d (%s)%s after %d.%02d s",
			    (int)pid, WTERMSIG(status), signame(WTERMSIG(status)),
			    WCOREDUMP(status) ? ", core dumped" : "",
			    (int)(ms / 1000), (int)(ms % 1000 / 10));
		else
			out("    # kseries-init: pid %d exit status %d after %d.%02d s",
			    (int)pid, WEXITSTATUS(status), (int)(ms / 1000),
			    (int)(ms % 1000 / 10));
	}
	drain_kmsg();

	if (exec_failed) {
		xe.what[sizeof(xe.what) - 1] = 0;
		out("not ok %d %s # exec failed: %s%s%s", n, e->id, xe.what,
		    xe.what[0] ? ": " : "", strerror(xe.err));
	} else if (timed_out) {
		out("not ok %d %s # TIMEOUT after %d s%s", n, e->id, e->timeout_s,
		    stuck ? " (unkillable)" : "");
	} else if (WIFSIGNALED(status)) {
		out("not ok %d %s # killed by signal %d (%s)", n, e->id,
		    WTERMSIG(status), signame(WTERMSIG(status)));
	} else if (co.not_ok[0] && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 4)) {
		out("not ok %d %s # exit status %d but its TAP has: %s", n, e->id,
		    WEXITSTATUS(status), co.not_ok);
	} else if (WEXITSTATUS(status) == 0) {
		out("ok %d %s", n, e->id);
	} else if (WEXITSTATUS(status) == 4) { /* KSFT_SKIP */
		out("ok %d %s # SKIP %s", n, e->id,
		    co.skip_reason[0] ? co.skip_reason : "probe skipped");
	} else {
		out("not ok %d %s # exit status %d", n, e->id, WEXITSTATUS(status));
	}
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
