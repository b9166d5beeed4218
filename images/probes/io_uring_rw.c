/*
 * io_uring_rw - IORING_OP_READV / WRITEV / READ / WRITE on a tmpfs file,
 * each submitted three ways, data compared byte for byte.
 *
 *   inline   io_uring_enter(to_submit = 1) from this task; the request is
 *            issued in the submitting syscall when it can be
 *   async    the same SQE with IOSQE_ASYNC: the request is punted to an
 *            io-wq worker, which issues it outside this task's syscall
 *            (this is where v5.9's compat handling goes wrong: the worker
 *            does not run in a compat syscall)
 *   sqpoll   IORING_SETUP_SQPOLL ring; the SQ thread picks the SQE up. The
 *            file is registered and referenced with IOSQE_FIXED_FILE, which
 *            kernels before 5.11 require under SQPOLL
 *
 * For READV/WRITEV the iovec array is in this process's ABI (8-byte compat
 * iovecs in the i386 build). Plus one recording case:
 *
 *   readv_sqpoll_plain_fd  SQPOLL with a plain fd in the SQE: kernels
 *            without IORING_FEAT_SQPOLL_NONFIXED (< 5.11) must complete it
 *            with -EBADF, later ones must read the data. The outcome is
 *            printed as "# readv_sqpoll_plain_fd: outcome=...".
 *
 * Reads: 9000 bytes at offset 123 of a file with known content, into 5
 * iovecs (one zero-length) or one buffer, canary after the end. Writes: a
 * fresh pattern at offset 4103 of an empty scratch file; pread back and the
 * file size (must be exactly 4103 + 9000).
 *
 * A case whose opcode or IOSQE_ASYNC the kernel does not have (checked with
 * IORING_REGISTER_PROBE, 5.6+) is skipped with that reason. Every wait is
 * bounded (uring_wait_cqe, CLOCK_MONOTONIC), and so is the whole probe:
 * once 40 s are used up the remaining cases fail without running.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"
#include "uring.h"

#define WAIT_MS 4000
#define BUDGET_MS 40000
#define FILE_LEN (3 * 4096 + 777)
#define ROFF 123
#define WOFF 4103
#define LEN 9000

enum op { OP_READV, OP_WRITEV, OP_READ, OP_WRITE };
enum mode { M_INLINE, M_ASYNC, M_SQPOLL, M_SQPOLL_PLAIN };

static const struct {
	const char *name;
	enum op op;
	enum mode mode;
} cases[] = {
	{ "readv_inline", OP_READV, M_INLINE },
	{ "readv_async", OP_READV, M_ASYNC },
	{ "readv_sqpoll", OP_READV, M_SQPOLL },
	{ "writev_inline", OP_WRITEV, M_INLINE },
	{ "writev_async", OP_WRITEV, M_ASYNC },
	{ "writev_sqpoll", OP_WRITEV, M_SQPOLL },
	{ "read_inline", OP_READ, M_INLINE },
	{ "read_async", OP_READ, M_ASYNC },
	{ "read_sqpoll", OP_READ, M_SQPOLL },
	{ "write_inline", OP_WRITE, M_INLINE },
	{ "write_async", OP_WRITE, M_ASYNC },
	{ "write_sqpoll", OP_WRITE, M_SQPOLL },
	{ "readv_sqpoll_plain_fd", OP_READV, M_SQPOLL_PLAIN },
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static const unsigned opcodes[] = {
	[OP_READV] = IORING_OP_READV, [OP_WRITEV] = IORING_OP_WRITEV,
	[OP_READ] = IORING_OP_READ, [OP_WRITE] = IORING_OP_WRITE,
};
static const char *const opnames[] = {
	[OP_READV] = "READV", [OP_WRITEV] = "WRITEV", [OP_READ] = "READ", [OP_WRITE] = "WRITE",
};

/* iovec split; the sum is LEN; a zero-length entry included */
static const size_t sizes[] = { 1, 4095, 0, 3000, 1904 };
#define NIOV (sizeof(sizes) / sizeof(sizes[0]))

static unsigned char content[FILE_LEN];
static unsigned char buf[LEN + 1], back[LEN];

static int supported[4]; /* per op: 1 yes, 0 no, <0 unknown (no probe) */
static int async_known;  /* IOSQE_ASYNC exists (kernel has IORING_REGISTER_PROBE, 5.6+) */

static int write_content_file(void)
{
	int fd = probe_scratch_fd("io_uring_rw data", 0);

	if (fd >= 0 && probe_pwrite_all(fd, content, FILE_LEN, 0) != FILE_LEN) {
		ktap_diag_ret("write data file", -1, errno);
		close(fd);
		return -1;
	}
	return fd;
}

static void run_case(int c, int read_fd)
{
	const char *name = cases[c].name;
	enum op op = cases[c].op;
	enum mode mode = cases[c].mode;
	int is_read = op == OP_READV || op == OP_READ;
	int sqpoll = mode == M_SQPOLL || mode == M_SQPOLL_PLAIN;
	int fixed = mode == M_SQPOLL;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct iovec iov[NIOV];
	struct uring r;
	unsigned idx;
	char euid[32];
	int fd, ret, pass = 1;

	if (supported[op] == 0) {
		ktap_skip(name, "IORING_OP_%s not supported by this kernel (IORING_REGISTER_PROBE)",
			  opnames[op]);
		return;
	}
	if ((op == OP_READ || op == OP_WRITE || mode == M_ASYNC) && !async_known) {
		ktap_skip(name, "kernel older than 5.6 (no IORING_REGISTER_PROBE, IORING_OP_READ/WRITE, IOSQE_ASYNC)");
		return;
	}

	fd = is_read ? read_fd : probe_scratch_fd(name, 0);
	if (fd < 0) {
		ktap_fail(name, "no file");
		return;
	}
	snprintf(euid, sizeof(euid), " (euid %u)", (unsigned)geteuid());
	if (uring_open_case(&r, name, sqpoll, euid) < 0)
		goto out_fd;
	if (fixed && uring_register_file(&r, fd) < 0) {
		ktap_fail(name, "file registration failed");
		goto out_ring;
	}

	if (is_read) {
		memset(buf, PROBE_CANARY, sizeof(buf));
	} else {
		probe_fill(buf, LEN, 0x100 + (uint32_t)c);
		buf[LEN] = PROBE_CANARY;
	}
	probe_split_iov(iov, buf, sizes, NIOV);

	sqe = uring_get_sqe(&r, &idx);
	if (!sqe) {
		ktap_fail(name, "SQ ring unexpectedly full");
		goto out_ring;
	}
	sqe->opcode = (uint8_t)opcodes[op];
	sqe->flags = (fixed ? IOSQE_FIXED_FILE : 0) | (mode == M_ASYNC ? IOSQE_ASYNC : 0);
	sqe->fd = fixed ? 0 : fd;
	if (op == OP_READV || op == OP_WRITEV) {
		sqe->addr = (uint64_t)(uintptr_t)iov;
		sqe->len = (unsigned)NIOV;
	} else {
		sqe->addr = (uint64_t)(uintptr_t)buf;
		sqe->len = LEN;
	}
	sqe->off = is_read ? ROFF : WOFF;
	sqe->user_data = 0x6b73000000000000ull | (unsigned)c;
	ktap_diag("sqe: %s fd=%d%s flags=0x%x %s=%u off=%llu (%zu-byte iovec, sizeof(void*)=%zu)",
		  opnames[op], sqe->fd, fixed ? " (fixed)" : "", sqe->flags,
		  (op == OP_READV || op == OP_WRITEV) ? "iovecs" : "len", sqe->len,
		  (unsigned long long)sqe->off, sizeof(struct iovec), sizeof(void *));
	uring_publish(&r, idx);
	ret = uring_submit(&r, 1, sqpoll);
	if (!sqpoll && ret != 1)
		pass = 0;
	if (uring_wait_cqe(&r, sqpoll, &cqe, WAIT_MS) < 0) {
		ktap_fail(name, "no completion within %d ms", WAIT_MS);
		goto out_ring;
	}
	uring_diag_cqe(name, &cqe);
	if (cqe.user_data != (0x6b73000000000000ull | (unsigned)c)) {
		ktap_diag("unexpected user_data");
		pass = 0;
	}

	if (mode == M_SQPOLL_PLAIN) {
		int nonfixed = (r.p.features & IORING_FEAT_SQPOLL_NONFIXED) != 0;

		ktap_diag("readv_sqpoll_plain_fd: outcome=%s cqe.res=%d IORING_FEAT_SQPOLL_NONFIXED=%d",
			  cqe.res < 0 ? ktap_errname(-cqe.res) : "data", cqe.res, nonfixed);
		if (!nonfixed) {
			pass = pass && cqe.res == -EBADF;
			ktap_result(pass, name, "expected cqe.res=-EBADF without IORING_FEAT_SQPOLL_NONFIXED");
			goto out_ring;
		}
	}

	if (cqe.res != LEN)
		pass = 0;
	if (is_read) {
		if (cqe.res > 0 && ktap_compare("read data", buf, content + ROFF, (size_t)cqe.res) >= 0)
			pass = 0;
		if (!probe_canary_intact(&buf[LEN], "data written past the end"))
			pass = 0;
	} else {
		struct stat st;
		ssize_t n = probe_pread_all(fd, back, LEN, WOFF);

		ktap_diag("pread back %zd bytes at %d", n, WOFF);
		if (n != LEN || ktap_compare("file data", back, buf, LEN) >= 0)
			pass = 0;
		if (fstat(fd, &st) == 0) {
			ktap_diag("file size %lld (want %d)", (long long)st.st_size, WOFF + LEN);
			if (st.st_size != WOFF + LEN)
				pass = 0;
		}
	}
	ktap_result(pass, name, "expected cqe.res=%d", LEN);
out_ring:
	uring_close(&r);
out_fd:
	if (!is_read)
		close(fd);
}

int main(void)
{
	char reason[256];
	struct uring probe;
	int64_t start;
	int fd, c, ret, i;

	ktap_plan(NCASES);
	probe_fill(content, FILE_LEN, 0x77);

	ret = uring_open(&probe, 4, 0, 0);
	if (ret < 0) {
		if (uring_unavailable(-ret, reason, sizeof(reason))) {
			for (c = 0; c < NCASES; c++)
				ktap_skip(cases[c].name, "%s", reason);
		} else {
			for (c = 0; c < NCASES; c++)
				ktap_fail(cases[c].name, "io_uring_setup failed: errno=%d %s", -ret,
					  ktap_errname(-ret));
		}
		return ktap_exit();
	}
	for (i = 0; i < 4; i++) {
		supported[i] = uring_op_supported(probe.fd, opcodes[i]);
		ktap_diag("IORING_OP_%s: %s", opnames[i],
			  supported[i] > 0 ? "supported" : supported[i] == 0 ? "not supported" :
			  "unknown (no IORING_REGISTER_PROBE)");
	}
	async_known = supported[OP_READV] >= 0;
	uring_close(&probe);

	fd = write_content_file();
	if (fd < 0) {
		for (c = 0; c < NCASES; c++)
			ktap_fail(cases[c].name, "no data file");
		return ktap_exit();
	}
	start = probe_now_ms();
	for (c = 0; c < NCASES; c++) {
		if (probe_now_ms() - start > BUDGET_MS) {
			ktap_fail(cases[c].name, "not run: the probe's %d s budget is used up",
				  BUDGET_MS / 1000);
			continue;
		}
		run_case(c, fd);
	}
	close(fd);
	return ktap_exit();
}
