/*
 * io_uring_setup - can a ring be created at all, plain and with SQPOLL?
 *
 * Raw syscalls only (see uring.h). Cases:
 *   setup_default        flags = 0, 8 entries
 *   setup_sqpoll         IORING_SETUP_SQPOLL, sq_thread_idle = 100 ms; needs
 *                        CAP_SYS_ADMIN before 5.11, so skipped (not failed)
 *                        with EPERM when not running as root
 *   setup_zero_entries   entries = 0 must be rejected with EINVAL
 *
 * Everything is skipped when the kernel has no io_uring (ENOSYS).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "uring.h"

static const char *const case_names[] = {
	"setup_default", "setup_sqpoll", "setup_zero_entries",
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

int main(void)
{
	char reason[256];
	int fd, c;

	ktap_plan(NCASES);

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
	if (fd == -EPERM && geteuid() != 0)
		ktap_skip("setup_sqpoll", "SQPOLL needs CAP_SYS_ADMIN before 5.11 (euid %u)",
			  (unsigned)geteuid());
	else
		ktap_result(fd >= 0, "setup_sqpoll", NULL);
	if (fd >= 0)
		close(fd);

	/* 3: invalid size */
	fd = try_setup("setup_zero_entries", 0, 0, 0);
	ktap_result(fd == -EINVAL, "setup_zero_entries", "expected ret=-1 errno=EINVAL");
	if (fd >= 0)
		close(fd);

	return ktap_exit();
}
