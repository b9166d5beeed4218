/*
 * io_uring_readv - IORING_OP_READV of a file with known content into
 * several iovecs, through raw io_uring syscalls (see uring.h).
 *
 * The iovec array is in the process's own ABI: the i386 build hands the
 * kernel an array of 8-byte compat iovecs, which a 64-bit kernel must import
 * with the compat layout (inline or from the SQPOLL kernel thread).
 *
 * Cases:
 *   readv_inline_plain_fd     no SQPOLL, ordinary fd in sqe->fd
 *   readv_inline_fixed_file   no SQPOLL, registered file + IOSQE_FIXED_FILE
 *   readv_sqpoll_fixed_file   IORING_SETUP_SQPOLL, registered file
 *
 * Why fixed files under SQPOLL: up to Linux 5.10 the SQPOLL thread cannot
 * look up the submitter's fd table, so a plain fd in an SQE is rejected
 * (the CQE carries -EBADF). The file must be registered with
 * IORING_REGISTER_FILES and referenced by index with IOSQE_FIXED_FILE.
 *
 * Never hangs: every wait for a completion polls with a CLOCK_MONOTONIC
 * deadline (see uring_wait_cqe in uring.h), and the case fails with a diagnostic.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "uring.h"

#define WAIT_SECONDS 5
#define FILE_LEN (3 * 4096 + 777)
#define USER_DATA_BASE 0x6b73657269657300ull /* "kseries\0" */

static const char *const case_names[] = {
	"readv_inline_plain_fd", "readv_inline_fixed_file", "readv_sqpoll_fixed_file",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

/* Destination split; a zero-length iovec included; the last takes the rest. */
static const size_t rsizes[] = { 1, 4095, 0, 3000, 17 };
#define NIOV (sizeof(rsizes) / sizeof(rsizes[0]) + 1)

static unsigned char content[FILE_LEN];
static unsigned char dst[FILE_LEN + 1];
static void fill_pattern(unsigned char *p, size_t len)
{
	uint32_t x = 0x12345678;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* A file in /tmp (tmpfs in the guest) holding `content`, or memfd fallback. */
static int make_data_file(void)
{
	char path[] = "/tmp/kseries-uring-XXXXXX";
	size_t off = 0;
	int fd;

	fd = mkstemp(path);
	if (fd >= 0) {
		unlink(path);
		ktap_diag("data file: %s (%d bytes)", path, FILE_LEN);
	} else {
		ktap_diag_ret("mkstemp /tmp", -1, errno);
		fd = (int)syscall(SYS_memfd_create, "kseries-uring", 0u);
		if (fd < 0) {
			ktap_diag_ret("memfd_create", -1, errno);
			return -1;
		}
		ktap_diag("data file: memfd (%d bytes)", FILE_LEN);
	}
	while (off < FILE_LEN) {
		ssize_t n = write(fd, content + off, FILE_LEN - off);

		if (n <= 0) {
			ktap_diag_ret("write data file", -1, errno);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return fd;
}

static void run_case(const char *name, int data_fd, int sqpoll, int fixed,
		     uint64_t user_data)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct iovec iov[NIOV];
	struct uring r;
	unsigned idx;
	size_t off;
	int ret, err, pass = 1;

	if (uring_open_case(&r, name, sqpoll, "") < 0)
		return;

	if (fixed && uring_register_file(&r, data_fd) < 0) {
		ktap_fail(name, "file registration failed");
		uring_close(&r);
		return;
	}

	off = probe_split_iov(iov, dst, rsizes, NIOV - 1);
	iov[NIOV - 1].iov_base = dst + off;
	iov[NIOV - 1].iov_len = FILE_LEN - off;
	memset(dst, PROBE_CANARY, sizeof(dst)); /* last byte is a canary */

	sqe = uring_get_sqe(&r, &idx);
	if (!sqe) {
		ktap_fail(name, "SQ ring unexpectedly full");
		uring_close(&r);
		return;
	}
	sqe->opcode = IORING_OP_READV;
	sqe->flags = fixed ? IOSQE_FIXED_FILE : 0;
	sqe->fd = fixed ? 0 : data_fd; /* index into the registered files */
	sqe->addr = (uint64_t)(uintptr_t)iov;
	sqe->len = (unsigned)NIOV;
	sqe->off = 0;
	sqe->user_data = user_data;
	ktap_diag("sqe: READV fd=%d%s iovecs=%u (%zu-byte iovec) len=%d sizeof(void*)=%zu",
		  sqe->fd, fixed ? " (fixed)" : "", (unsigned)NIOV,
		  sizeof(struct iovec), FILE_LEN, sizeof(void *));
	uring_publish(&r, idx);

	if (sqpoll) {
		/*
		 * Full barrier between publishing the tail and reading the flags,
		 * pairing with the poll thread setting NEED_WAKEUP and re-checking
		 * the tail before it sleeps; otherwise both sides could miss.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(r.sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP) {
			errno = 0;
			ret = sys_io_uring_enter(r.fd, 0, 0, IORING_ENTER_SQ_WAKEUP);
			err = errno;
			ktap_diag_ret("io_uring_enter(SQ_WAKEUP)", ret, err);
		}
	} else {
		errno = 0;
		ret = sys_io_uring_enter(r.fd, 1, 0, 0);
		err = errno;
		ktap_diag_ret("io_uring_enter(to_submit=1)", ret, err);
		if (ret != 1)
			pass = 0;
	}

	ret = uring_wait_cqe(&r, sqpoll, &cqe, WAIT_SECONDS * 1000);
	if (ret < 0) {
		ktap_fail(name, "no completion");
		uring_close(&r);
		return;
	}
	if (cqe.res < 0)
		ktap_diag_ret("cqe.res", -1, -cqe.res);
	else
		ktap_diag("cqe.res=%d (expected %d) user_data=0x%llx flags=0x%x",
			  cqe.res, FILE_LEN, (unsigned long long)cqe.user_data,
			  cqe.flags);
	if (cqe.user_data != user_data) {
		ktap_diag("unexpected user_data, want 0x%llx",
			  (unsigned long long)user_data);
		pass = 0;
	}
	if (!probe_read_ok("readv data", cqe.res, dst, content, FILE_LEN,
			   "data written past the last iovec"))
		pass = 0;
	ktap_result(pass, name, NULL);
	uring_close(&r);
}

int main(void)
{
	char reason[256];
	struct uring probe;
	int fd, c, ret;

	ktap_plan(NCASES);

	/* Is io_uring there at all? Skip everything with one clear reason if not. */
	ret = uring_open(&probe, 4, 0, 0);
	if (ret < 0 && uring_unavailable(-ret, reason, sizeof(reason))) {
		for (c = 0; c < NCASES; c++)
			ktap_skip(case_names[c], "%s", reason);
		return ktap_exit();
	}
	if (ret == 0)
		uring_close(&probe);

	fill_pattern(content, FILE_LEN);
	fd = make_data_file();
	if (fd < 0) {
		for (c = 0; c < NCASES; c++)
			ktap_fail(case_names[c], "no data file");
		return ktap_exit();
	}

	run_case(case_names[0], fd, 0, 0, USER_DATA_BASE | 1);
	run_case(case_names[1], fd, 0, 1, USER_DATA_BASE | 2);
	run_case(case_names[2], fd, 1, 1, USER_DATA_BASE | 3);

	close(fd);
	return ktap_exit();
}
