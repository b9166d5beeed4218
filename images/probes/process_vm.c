/*
 * process_vm - process_vm_readv/process_vm_writev between a parent and a
 * forked child, with local AND remote iovec arrays (both in the caller's
 * ABI: compat for the i386 build).
 *
 * The child owns two separate regions (two anonymous mappings, neither
 * region page aligned, the second one crossing a page boundary) filled with
 * known patterns. The parent reads them with 2 local + 2 remote iovecs split
 * at different places, compares byte for byte, then writes new patterns
 * into them with 3 local + 2 remote iovecs and has the child verify its own
 * memory and report over a pipe.
 *
 * Never hangs: every pipe read is a poll() with a deadline, the child exits
 * by itself after 10 s without a command (or when the parent goes away),
 * and the parent reaps it with a bounded WNOHANG loop, SIGKILL as a last
 * resort.
 *
 * Cases:
 *   fork_child                  child started, regions filled, said ready
 *   process_vm_readv            2 local / 2 remote iovecs, 8000 bytes
 *   process_vm_readv_partial    remote iovec 2 is (void *)1: the call returns
 *                               the 3000 bytes of remote iovec 1
 *   process_vm_writev           3 local / 2 remote iovecs, child verifies
 *   process_vm_bad_args         flags = 1 -> EINVAL; riovcnt = UIO_MAXIOV+1
 *                               -> EINVAL; liovcnt = UIO_MAXIOV+1 -> EINVAL
 *   child_exit                  the child exited with status 0
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static const char *const case_names[] = {
	"fork_child", "process_vm_readv", "process_vm_readv_partial",
	"process_vm_writev", "process_vm_bad_args", "child_exit",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

#define LEN_A 3000
#define LEN_B 5000
#define TOTAL (LEN_A + LEN_B)
#define SEED_A 0xa1
#define SEED_B 0xb2
#define SEED_A2 0xa3
#define SEED_B2 0xb4

/* What the child reports after verifying its regions. */
struct verdict {
	int32_t a_first_diff; /* -1 = identical */
	int32_t b_first_diff;
};

static unsigned char *region_a, *region_b; /* same addresses in both processes */

/* Read exactly `len` bytes from `fd` within `ms`; returns 0 or -1. */
static int read_full(int fd, void *buf, size_t len, int ms)
{
	int64_t deadline = probe_now_ms() + ms;
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - probe_now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void write_full(int fd, const void *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
}

static __attribute__((noreturn)) void child_main(int cmd_fd, int rep_fd)
{
	unsigned char want[LEN_B];
	struct verdict v;
	char cmd;

	probe_fill(region_a, LEN_A, SEED_A);
	probe_fill(region_b, LEN_B, SEED_B);
	write_full(rep_fd, "R", 1);
	for (;;) {
		if (read_full(cmd_fd, &cmd, 1, 10000) < 0)
			_exit(3); /* parent gone or silent: do not linger */
		if (cmd == 'Q')
			_exit(0);
		if (cmd == 'V') {
			probe_fill(want, LEN_A, SEED_A2);
			v.a_first_diff = (int32_t)ktap_compare("child: region A after process_vm_writev",
							       region_a, want, LEN_A);
			probe_fill(want, LEN_B, SEED_B2);
			v.b_first_diff = (int32_t)ktap_compare("child: region B after process_vm_writev",
							       region_b, want, LEN_B);
			write_full(rep_fd, &v, sizeof(v));
		}
	}
}

int main(void)
{
	static struct iovec many[UIO_MAXIOV + 1];
	unsigned char expect[TOTAL], dst[TOTAL + 1], src[TOTAL];
	unsigned char *map_a, *map_b;
	struct iovec local[3], remote[2];
	int cmd[2], rep[2], c, err, pass, status;
	struct verdict v;
	ssize_t ret;
	pid_t pid;
	char ready;

	ktap_plan(NCASES);

	map_a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	map_b = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map_a == MAP_FAILED || map_b == MAP_FAILED || pipe2(cmd, O_CLOEXEC) < 0 ||
	    pipe2(rep, O_CLOEXEC) < 0) {
		ktap_fail("fork_child", "mmap/pipe failed: errno=%d %s", errno, ktap_errname(errno));
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no child");
		return ktap_exit();
	}
	region_a = map_a + 123;
	region_b = map_b + 4000; /* crosses into the second page */
	/* The parent's own copies hold something else, so a local read would show. */
	memset(region_a, 0x11, LEN_A);
	memset(region_b, 0x22, LEN_B);

	pid = fork();
	if (pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		child_main(cmd[0], rep[1]);
	}
	close(cmd[0]);
	close(rep[1]);
	if (pid < 0 || read_full(rep[0], &ready, 1, 5000) < 0 || ready != 'R') {
		ktap_fail("fork_child", "fork or child start failed: pid=%d errno=%d %s",
			  (int)pid, errno, ktap_errname(errno));
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no child");
		if (pid > 0)
			probe_reap_child(pid, 100);
		return ktap_exit();
	}
	ktap_ok("fork_child", "child pid %d; region A %p+%d, region B %p+%d", (int)pid,
		(void *)region_a, LEN_A, (void *)region_b, LEN_B);

	/* 2: read both regions: local split 5000 + 3000, remote 3000 + 5000 */
	probe_fill(expect, LEN_A, SEED_A);
	probe_fill(expect + LEN_A, LEN_B, SEED_B);
	memset(dst, PROBE_CANARY, sizeof(dst));
	local[0].iov_base = dst;
	local[0].iov_len = 5000;
	local[1].iov_base = dst + 5000;
	local[1].iov_len = 3000;
	remote[0].iov_base = region_a;
	remote[0].iov_len = LEN_A;
	remote[1].iov_base = region_b;
	remote[1].iov_len = LEN_B;
	errno = 0;
	ret = process_vm_readv(pid, local, 2, remote, 2, 0);
	err = errno;
	ktap_diag_ret("process_vm_readv(2 local, 2 remote)", (long)ret, err);
	if (ret < 0 && err == ENOSYS) {
		for (c = 1; c < NCASES - 1; c++)
			ktap_skip(case_names[c], "process_vm_readv: ENOSYS (no CONFIG_CROSS_MEMORY_ATTACH)");
		write_full(cmd[1], "Q", 1);
		status = probe_reap_child(pid, 3000);
		ktap_result(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "child_exit", "wait status 0x%x", status);
		return ktap_exit();
	}
	pass = probe_read_ok("process_vm_readv data", (long)ret, dst, expect, TOTAL,
			     "data past the last local iovec");
	ktap_result(pass, "process_vm_readv", "expected ret=%d", TOTAL);

	/* 3: second remote iovec unmapped: partial transfer of the first */
	{
		unsigned char *volatile bad = (unsigned char *)1;

		memset(dst, PROBE_CANARY, sizeof(dst));
		local[0].iov_base = dst;
		local[0].iov_len = TOTAL;
		remote[1].iov_base = bad;
		remote[1].iov_len = 100;
		errno = 0;
		ret = process_vm_readv(pid, local, 1, remote, 2, 0);
		err = errno;
		ktap_diag_ret("process_vm_readv(remote[1].iov_base=(void*)1)", (long)ret, err);
		pass = ret == LEN_A;
		if (ret > 0 && ktap_compare("partial data", dst, expect, (size_t)ret) >= 0)
			pass = 0;
		if (dst[LEN_A] != PROBE_CANARY) {
			ktap_diag("byte after the partial data changed (0x%02x)", dst[LEN_A]);
			pass = 0;
		}
		ktap_result(pass, "process_vm_readv_partial", "expected ret=%d (remote iovec 1 only)",
			    LEN_A);
	}

	/* 4: write new patterns: local split 1000 + 6000 + 1000, remote 3000 + 5000 */
	probe_fill(src, LEN_A, SEED_A2);
	probe_fill(src + LEN_A, LEN_B, SEED_B2);
	local[0].iov_base = src;
	local[0].iov_len = 1000;
	local[1].iov_base = src + 1000;
	local[1].iov_len = 6000;
	local[2].iov_base = src + 7000;
	local[2].iov_len = 1000;
	remote[0].iov_base = region_a;
	remote[0].iov_len = LEN_A;
	remote[1].iov_base = region_b;
	remote[1].iov_len = LEN_B;
	errno = 0;
	ret = process_vm_writev(pid, local, 3, remote, 2, 0);
	err = errno;
	ktap_diag_ret("process_vm_writev(3 local, 2 remote)", (long)ret, err);
	pass = ret == TOTAL;
	write_full(cmd[1], "V", 1);
	if (read_full(rep[0], &v, sizeof(v), 5000) < 0) {
		ktap_diag("no verdict from the child within 5 s");
		pass = 0;
	} else {
		ktap_diag("child verdict: region A first diff %d, region B first diff %d (-1 = identical)",
			  (int)v.a_first_diff, (int)v.b_first_diff);
		if (v.a_first_diff != -1 || v.b_first_diff != -1)
			pass = 0;
	}
	/* The parent's own regions must be untouched. */
	if (region_a[0] != 0x11 || region_b[LEN_B - 1] != 0x22) {
		ktap_diag("the parent's own regions changed");
		pass = 0;
	}
	ktap_result(pass, "process_vm_writev", "expected ret=%d and the child's memory to match",
		    TOTAL);

	/* 5: argument checks */
	{
		int i;

		local[0].iov_base = dst;
		local[0].iov_len = 16;
		remote[0].iov_base = region_a;
		remote[0].iov_len = 16;
		errno = 0;
		ret = process_vm_readv(pid, local, 1, remote, 1, 1);
		err = errno;
		ktap_diag_ret("process_vm_readv(flags=1)", (long)ret, err);
		pass = ret == -1 && err == EINVAL;
		for (i = 0; i <= UIO_MAXIOV; i++) {
			many[i].iov_base = region_a;
			many[i].iov_len = 1;
		}
		errno = 0;
		ret = process_vm_readv(pid, local, 1, many, UIO_MAXIOV + 1, 0);
		err = errno;
		ktap_diag_ret("process_vm_readv(riovcnt=1025)", (long)ret, err);
		if (!(ret == -1 && err == EINVAL))
			pass = 0;
		for (i = 0; i <= UIO_MAXIOV; i++)
			many[i].iov_base = dst;
		errno = 0;
		ret = process_vm_readv(pid, many, UIO_MAXIOV + 1, remote, 1, 0);
		err = errno;
		ktap_diag_ret("process_vm_readv(liovcnt=1025)", (long)ret, err);
		if (!(ret == -1 && err == EINVAL))
			pass = 0;
		ktap_result(pass, "process_vm_bad_args", "expected ret=-1 errno=EINVAL for all three");
	}

	/* 6 */
	write_full(cmd[1], "Q", 1);
	status = probe_reap_child(pid, 3000);
	ktap_result(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child_exit", "wait status 0x%x", status);
	close(cmd[1]);
	close(rep[0]);
	return ktap_exit();
}
