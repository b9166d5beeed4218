/*
 * io_uring_setup - can a ring be created at all, plain and with SQPOLL,
 * and what happens to SQPOLL for an unprivileged user?
 *
 * Raw syscalls only (see uring.h). Runs as root (the usual plan entry) or
 * under any other uid (the init can run an entry with a UID); the plan is
 * the same either way. Cases:
 *
 *   setup_default        flags = 0, 8 entries: must succeed
 *   setup_sqpoll         IORING_SETUP_SQPOLL, sq_thread_idle = 100 ms. As
 *                        root it must succeed. Unprivileged, SQPOLL needs
 *                        CAP_SYS_ADMIN before 5.11 (EPERM) and is allowed
 *                        from 5.11: the outcome is recorded, not judged
 *                        (always "ok"; see sqpoll_unprivileged)
 *   setup_zero_entries   entries = 0 must be rejected with EINVAL
 *   sqpoll_unprivileged  records what an unprivileged SQPOLL setup gets.
 *                        Not root: tried directly. Root: tried in a forked
 *                        child that dropped to uid/gid 65534 with no
 *                        supplementary groups. Always "ok" (SKIP only if
 *                        the child could not drop privileges); the outcome
 *                        is the stable diagnostic line
 *                            # sqpoll_unprivileged: ret=0
 *                            # sqpoll_unprivileged: ret=-1 errno=1 EPERM (Operation not permitted)
 *                        preceded by "# sqpoll_unprivileged_plain_ring: ..."
 *                        (a ring without SQPOLL from the same credentials,
 *                        to tell an SQPOLL-specific refusal from a general
 *                        one) and "# sqpoll_unprivileged_as: uid=.. euid=..".
 *
 * Everything is skipped when the kernel has no io_uring (ENOSYS, or
 * kernel.io_uring_disabled).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"
#include "uring.h"

#define NOBODY 65534

static const char *const case_names[] = {
	"setup_default", "setup_sqpoll", "setup_zero_entries", "sqpoll_unprivileged",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

/* io_uring_setup() only; returns fd or -errno, printing the evidence. */
static int try_setup(const char *what, unsigned entries, unsigned flags,
		     unsigned idle_ms)
{
	struct io_uring_params p;
	int fd, err;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.sq_thread_idle = idle_ms;
	errno = 0;
	fd = sys_io_uring_setup(entries, &p);
	err = errno;
	ktap_diag("%s: io_uring_setup(entries=%u, flags=0x%x, sq_thread_idle=%u)",
		  what, entries, flags, idle_ms);
	ktap_diag_ret(what, fd, err);
	if (fd >= 0)
		ktap_diag("%s: sq_entries=%u cq_entries=%u features=0x%x", what,
			  p.sq_entries, p.cq_entries, p.features);
	return fd >= 0 ? fd : -err;
}

/* io_uring_setup() without diagnostics: 0 (ring closed again) or -errno. */
static int quiet_setup(unsigned flags)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.sq_thread_idle = 100;
	errno = 0;
	fd = sys_io_uring_setup(8, &p);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* What the unprivileged attempt reports (fixed-size, plain ints). */
struct attempt {
	int32_t stage;     /* 0 = ran, 1 = setgroups, 2 = setgid, 3 = setuid failed */
	int32_t err;       /* errno of the failed stage */
	int32_t uid, euid;
	int32_t plain;     /* quiet_setup(0) */
	int32_t sqpoll;    /* quiet_setup(IORING_SETUP_SQPOLL) */
};

static void attempt_here(struct attempt *a)
{
	a->stage = 0;
	a->uid = (int32_t)getuid();
	a->euid = (int32_t)geteuid();
	a->plain = quiet_setup(0);
	a->sqpoll = quiet_setup(IORING_SETUP_SQPOLL);
}

/* Root: run attempt_here() in a child that dropped to NOBODY. 0 or -1. */
static int attempt_as_nobody(struct attempt *a)
{
	int p[2], status;
	int64_t deadline;
	pid_t pid;
	size_t got = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct attempt c;

		memset(&c, 0, sizeof(c));
		if (setgroups(0, NULL) < 0) {
			c.stage = 1;
			c.err = errno;
		} else if (setgid(NOBODY) < 0) {
			c.stage = 2;
			c.err = errno;
		} else if (setuid(NOBODY) < 0) {
			c.stage = 3;
			c.err = errno;
		} else {
			attempt_here(&c);
		}
		if (write(p[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	deadline = probe_now_ms() + 5000;
	while (got < sizeof(*a) && probe_now_ms() < deadline) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p[0], (char *)a + got, sizeof(*a) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	deadline = probe_now_ms() + 3000;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (probe_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		probe_sleep_ms(5);
	}
	return got == sizeof(*a) ? 0 : -1;
}

static void diag_outcome(const char *what, int32_t res)
{
	if (res == 0)
		ktap_diag("%s: ret=0", what);
	else
		ktap_diag_ret(what, -1, -res);
}

int main(void)
{
	char reason[256];
	struct attempt a;
	int fd, c, privileged = geteuid() == 0;

	ktap_plan(NCASES);
	ktap_diag("uid=%u euid=%u", (unsigned)getuid(), (unsigned)geteuid());

	/* 1: default ring */
	fd = try_setup("setup_default", 8, 0, 0);
	if (fd < 0 && uring_unavailable(-fd, reason, sizeof(reason))) {
		for (c = 0; c < NCASES; c++)
			ktap_skip(case_names[c], "%s", reason);
		return ktap_exit();
	}
	ktap_result(fd >= 0, "setup_default", NULL);
	if (fd >= 0)
		close(fd);

	/* 2: SQPOLL ring; the poll thread is created by io_uring_setup() */
	fd = try_setup("setup_sqpoll", 8, IORING_SETUP_SQPOLL, 100);
	if (!privileged)
		ktap_ok("setup_sqpoll", "unprivileged (euid %u): outcome recorded above, not judged "
			"(refused before 5.11, allowed since)", (unsigned)geteuid());
	else
		ktap_result(fd >= 0, "setup_sqpoll", NULL);
	if (fd >= 0)
		close(fd);

	/* 3: invalid size */
	fd = try_setup("setup_zero_entries", 0, 0, 0);
	ktap_result(fd == -EINVAL, "setup_zero_entries", "expected ret=-1 errno=EINVAL");
	if (fd >= 0)
		close(fd);

	/* 4: unprivileged SQPOLL, recorded */
	memset(&a, 0, sizeof(a));
	if (!privileged) {
		attempt_here(&a);
		ktap_diag("sqpoll_unprivileged_as: uid=%d euid=%d (this process)", (int)a.uid,
			  (int)a.euid);
	} else if (attempt_as_nobody(&a) < 0) {
		ktap_skip("sqpoll_unprivileged", "no report from the uid %d child", NOBODY);
		return ktap_exit();
	} else if (a.stage != 0) {
		ktap_skip("sqpoll_unprivileged", "could not drop to uid %d: %s failed: %s",
			  NOBODY, a.stage == 1 ? "setgroups" : a.stage == 2 ? "setgid" : "setuid",
			  ktap_errname(a.err));
		return ktap_exit();
	} else {
		ktap_diag("sqpoll_unprivileged_as: uid=%d euid=%d (forked child of uid %u)",
			  (int)a.uid, (int)a.euid, (unsigned)getuid());
	}
	diag_outcome("sqpoll_unprivileged_plain_ring", a.plain);
	diag_outcome("sqpoll_unprivileged", a.sqpoll);
	ktap_ok("sqpoll_unprivileged", "outcome recorded above, not judged");

	return ktap_exit();
}
