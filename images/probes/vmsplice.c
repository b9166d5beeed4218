/*
 * vmsplice - user memory into and out of a pipe through an iovec array.
 *
 * vmsplice() imports its iovec array like readv/writev (the compat layout
 * in the i386 build) and is one of the callers the series converts.
 *
 * Cases:
 *   pipe                     pipe2(O_NONBLOCK) (so nothing can block)
 *   vmsplice_two_iovecs      two iovecs (3000 + 5000 bytes) into the pipe;
 *                            read(2) the other end, byte compare
 *   vmsplice_many_iovecs     12 iovecs (more than UIO_FASTIOV = 8, so the
 *                            kernel allocates the array), one zero-length
 *   vmsplice_to_user         data written into the pipe with write(2),
 *                            vmsplice() on the READ end copies it out into
 *                            three iovecs (the pipe-to-user direction)
 *   vmsplice_bad_iov_array   iovec array pointer (void *)1: EFAULT and
 *                            nothing queued in the pipe
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

static const char *const case_names[] = {
	"pipe", "vmsplice_two_iovecs", "vmsplice_many_iovecs", "vmsplice_to_user",
	"vmsplice_bad_iov_array",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

#define MAXLEN 16384 /* well under the default 64 KiB pipe capacity */

static unsigned char src[MAXLEN], dst[MAXLEN + 1];

/* Read up to `len` bytes from the nonblocking pipe, 2 s at most. */
static ssize_t drain(int fd, unsigned char *p, size_t len)
{
	int64_t deadline = probe_now_ms() + 2000;
	size_t got = 0;

	while (got < len && probe_now_ms() < deadline) {
		ssize_t n = read(fd, p + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, 10) < 0 && errno != EINTR)
				break;
			continue;
		}
		if (errno != EINTR)
			return got ? (ssize_t)got : -1;
	}
	return (ssize_t)got;
}

/* How many bytes sit unread in the pipe (FIONREAD), or -1. */
static int pipe_pending(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

/* vmsplice `nvec` iovecs of the given sizes from src into the pipe, drain, compare. */
static int splice_in(int p[2], const char *name, const size_t *sizes, size_t nvec)
{
	struct iovec iov[32];
	size_t off;
	ssize_t ret, got;
	int err, pass;

	off = probe_split_iov(iov, src, sizes, nvec);
	ktap_diag("%s: vmsplice(write end, %zu iovecs, %zu bytes, 0)", name, nvec, off);
	errno = 0;
	ret = vmsplice(p[1], iov, nvec, 0);
	err = errno;
	ktap_diag_ret("vmsplice", (long)ret, err);
	pass = ret == (ssize_t)off;
	memset(dst, PROBE_CANARY, sizeof(dst));
	got = drain(p[0], dst, ret > 0 ? (size_t)ret : 0);
	ktap_diag("read(read end): %zd bytes", got);
	if (got != ret && ret > 0)
		pass = 0;
	if (got > 0 && ktap_compare("pipe data", dst, src, (size_t)got) >= 0)
		pass = 0;
	return pass;
}

int main(void)
{
	static const size_t two[] = { 3000, 5000 };
	/*
	 * Each iovec takes at least one pipe buffer and a pipe has 16 by
	 * default: 12 small iovecs (plus page crossings) still fit.
	 */
	static const size_t many[] = { 1, 2, 3, 500, 0, 121, 96, 7, 64, 65, 100, 1041 };
	int p[2], c, err, pass;
	ssize_t ret;

	ktap_plan(NCASES);
	probe_fill(src, MAXLEN, 0x5011);

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
		ktap_fail("pipe", "pipe2: errno=%d %s", errno, ktap_errname(errno));
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no pipe");
		return ktap_exit();
	}
	ktap_ok("pipe", "pipe fds %d, %d (O_NONBLOCK)", p[0], p[1]);

	/* 2 */
	{
		struct iovec probe = { src, 1 };

		errno = 0;
		ret = vmsplice(p[1], &probe, 1, 0);
		if (ret < 0 && errno == ENOSYS) {
			for (c = 1; c < NCASES; c++)
				ktap_skip(case_names[c], "vmsplice: ENOSYS");
			return ktap_exit();
		}
		if (ret > 0)
			drain(p[0], dst, (size_t)ret);
	}
	ktap_result(splice_in(p, "vmsplice_two_iovecs", two, 2), "vmsplice_two_iovecs",
		    "expected ret=8000 and the same bytes out of the pipe");

	/* 3 */
	{
		size_t i, total = 0;

		for (i = 0; i < sizeof(many) / sizeof(many[0]); i++)
			total += many[i];
		ktap_result(splice_in(p, "vmsplice_many_iovecs", many,
				      sizeof(many) / sizeof(many[0])),
			    "vmsplice_many_iovecs", "expected ret=%zu", total);
	}

	/* 4: pipe -> user memory */
	{
		static const size_t sizes[] = { 1234, 1, 4000 };
		const size_t total = 5235;
		struct iovec iov[3];

		errno = 0;
		ret = write(p[1], src + 100, total);
		ktap_diag_ret("write(write end, 5235)", (long)ret, errno);
		memset(dst, PROBE_CANARY, sizeof(dst));
		probe_split_iov(iov, dst, sizes, 3);
		errno = 0;
		ret = vmsplice(p[0], iov, 3, 0);
		err = errno;
		ktap_diag_ret("vmsplice(read end, 3 iovecs)", (long)ret, err);
		pass = probe_read_ok("vmsplice to user data", (long)ret, dst, src + 100, total,
				     "data past the last iovec");
		ktap_diag("bytes left in the pipe: %d", pipe_pending(p[0]));
		if (pipe_pending(p[0]) != 0)
			pass = 0;
		ktap_result(pass, "vmsplice_to_user", "expected ret=%zu", total);
	}

	/* 5: bad array pointer */
	{
		struct iovec *volatile bad = (struct iovec *)1;

		errno = 0;
		ret = vmsplice(p[1], bad, 2, 0);
		err = errno;
		ktap_diag_ret("vmsplice(iov=(void*)1, 2)", (long)ret, err);
		ktap_diag("bytes queued in the pipe: %d", pipe_pending(p[0]));
		ktap_result(ret == -1 && err == EFAULT && pipe_pending(p[0]) == 0,
			    "vmsplice_bad_iov_array", "expected ret=-1 errno=EFAULT");
	}

	close(p[0]);
	close(p[1]);
	return ktap_exit();
}
