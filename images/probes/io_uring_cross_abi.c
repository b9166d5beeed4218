/*
 * io_uring_cross_abi - a ring created by one ABI and used by the other.
 *
 * The probe (parent) creates the ring, clears FD_CLOEXEC on it and execs a
 * child that maps the ring from the inherited fd (the io_uring_params go
 * along in shared memory; the mmap offsets are the standard IORING_OFF_*),
 * builds an iovec array in ITS OWN ABI and submits one IORING_OP_READV of a
 * file with known content. The child is either this very binary (control
 * cases) or its sibling of the other ABI: the harness installs the probes
 * as /kseries/bin/<abi>/<name>, so the sibling is /proc/self/exe with the
 * "/i386/", "/x32/" or "/x86_64/" directory swapped (the host test's build tree has
 * the same shape). No sibling: the cross cases are skipped.
 *
 * Shared arena. With SQPOLL the SQ thread resolves user addresses in the
 * ring CREATOR's address space (5.9: ctx->sqo_mm; since 5.12 the SQ thread
 * belongs to the creator), not the submitter's. So the iovec array and the
 * destination buffer live in a memfd mapped at the same fixed address
 * (below 4 GiB, MAP_FIXED_NOREPLACE) in parent and child; whichever address
 * space the kernel uses, it sees the same bytes. The parent checks the
 * destination itself after the child has exited.
 *
 * What to expect. io_uring decides how to parse an iovec array from the
 * ring, not from the submitting task: v5.9 and mainline import it with
 * ctx->compat, set at io_uring_setup() time from the creator
 * (__import_iovec(..., req->ctx->compat) in today's io_uring/rw.c). So a
 * cross-ABI submitter's array is read in the CREATOR's layout and does not
 * deliver the data. A kernel that instead keyed it on in_compat_syscall()
 * (the direction of v1 of the series) would parse inline submissions in
 * the SUBMITTER's layout but SQPOLL ones (a kernel thread, not in a compat
 * syscall) in the native layout: inconsistent between paths. The arrays
 * are built so that either misreading is harmless and recognisable:
 *
 *   64-bit submitter, compat ring: every 16-byte iovec {base < 4 GiB, len}
 *     reads as two 8-byte iovecs whose lengths are the zero high words, so
 *     the READV returns 0 and writes nothing         -> layout=creator
 *   32-bit submitter, 64-bit ring: two 8-byte iovecs {b0,l0},{b1,l1} read
 *     as one {b0 | l0 << 32, b1 | l1 << 32}; every length is non-zero, so
 *     the base lies above 4 GiB where nothing is mapped: -EFAULT, nothing
 *     written                                          -> layout=creator
 *   the data arrives intact                           -> layout=submitter
 *   io_uring_enter() refused for a non-creator task   -> layout=refused
 *     (EPERM, EACCES, EEXIST, EOPNOTSUPP, or EINVAL: the posted diffs of
 *     the PF_FORCE_COMPAT review fail a mismatched io_uring_enter() so)
 *   anything else (partial data, stray writes, ...)   -> layout=other
 *
 * Each outcome is printed as a stable line
 *     # cross_abi: ring=<abi> submitter=<abi> mode=<mode> layout=<l> res=<n>
 *
 * Cases:
 *   same_abi_child_inline   control: this binary as the child, inline
 *                           submission; the data must arrive intact
 *   same_abi_child_sqpoll   control: same through an SQPOLL ring with the
 *                           file registered (IOSQE_FIXED_FILE)
 *   cross_abi_inline        sibling ABI, inline: ok for layout creator,
 *                           submitter or refused; not ok for "other"
 *   cross_abi_async         sibling ABI, IOSQE_ASYNC (io-wq): likewise
 *   cross_abi_sqpoll        sibling ABI, SQPOLL ring, registered file: likewise
 *   cross_abi_consistent    the cross runs that completed (at least two of
 *                           the three) agree on the layout: a ring must not
 *                           change its ABI with the submission path
 *
 * A kernel that refuses to create the SQPOLL ring itself (EINVAL or EPERM
 * from io_uring_setup, e.g. SQPOLL refused to compat tasks) makes the
 * SQPOLL cases SKIP, with the errno: there is no such ring to share.
 *
 * Bounded: the child waits 3 s for its CQE and the parent reaps it within
 * 6 s, SIGKILL as a last resort.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"
#include "uring.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The sibling of a 32-bit build (i386, x32) is the x86_64 one, and the x86_64 build's is i386. */
#define MY_ABI PROBE_ABI_DIR
#define OTHER_ABI (sizeof(long) == 8 ? "i386" : "x86_64")

#define ARENA_LEN (64 * 1024)
#define IOV_OFF 4096
#define DST_OFF 8192
#define FILE_LEN 12000
#define CTL_MAGIC 0x6b736572u
#define CHILD_WAIT_MS 3000
#define REAP_MS 6000

enum mode { M_INLINE, M_ASYNC, M_SQPOLL };
static const char *const mode_names[] = { "inline", "async", "sqpoll" };

/* Every entry non-zero, so a misread array cannot point below 4 GiB. */
static const uint32_t sizes[] = { 1000, 3000, 2000, 4000, 1500, 500 };
#define NIOV (sizeof(sizes) / sizeof(sizes[0]))

/*
 * Control block at the start of the arena. Only fixed-size fields, the u64
 * ones 8-byte aligned, so i386 and x86_64 agree on the layout.
 */
struct ctl {
	uint32_t magic;
	uint32_t mode;
	int32_t data_fd;      /* plain fd, or -1: registered file index 0 */
	uint32_t file_len;
	uint32_t stage;       /* child: 1 mapped, 2 submitted, 3 completed */
	int32_t err;          /* child: errno of the failed step */
	int32_t res;          /* child: cqe.res */
	uint32_t iovec_size;  /* child: sizeof(struct iovec) */
	uint32_t ptr_size;    /* child: sizeof(void *) */
	int32_t enter_ret;    /* child: io_uring_enter() result or -errno */
	uint64_t user_data;
	unsigned char params[sizeof(struct io_uring_params)];
};
_Static_assert(sizeof(struct io_uring_params) == 120, "io_uring_params layout");
_Static_assert(offsetof(struct ctl, user_data) == 40, "ctl layout");
_Static_assert(sizeof(struct ctl) == 168, "ctl layout");

static const uintptr_t arena_addrs[] = { 0x3a000000u, 0x5a000000u, 0x2a000000u };

static unsigned char content[FILE_LEN];

/* ---------------------------------------------------------------- child */

static int child_main(int argc, char **argv)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct iovec *iov;
	struct uring r;
	struct ctl *ctl;
	unsigned char *arena, *dst;
	struct io_uring_params p;
	uintptr_t addr;
	unsigned idx;
	size_t i, off = 0;
	int ring_fd, arena_fd, ret;

	if (argc != 5)
		return 2;
	ring_fd = atoi(argv[2]);
	arena_fd = atoi(argv[3]);
	addr = (uintptr_t)strtoul(argv[4], NULL, 16);
	arena = mmap((void *)addr, ARENA_LEN, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED_NOREPLACE, arena_fd, 0);
	if (arena == MAP_FAILED || (uintptr_t)arena != addr) {
		ktap_diag("child (%s): arena mmap at 0x%lx failed: errno=%d %s", MY_ABI,
			  (unsigned long)addr, errno, ktap_errname(errno));
		return 3;
	}
	ctl = (struct ctl *)arena;
	if (ctl->magic != CTL_MAGIC)
		return 4;
	ctl->iovec_size = sizeof(struct iovec);
	ctl->ptr_size = sizeof(void *);
	memcpy(&p, ctl->params, sizeof(p));
	ret = uring_map(&r, ring_fd, &p);
	if (ret < 0) {
		ctl->err = -ret;
		return 5;
	}
	ctl->stage = 1;

	/* The iovec array in this process's own ABI, pointing into the arena. */
	iov = (struct iovec *)(arena + IOV_OFF);
	dst = arena + DST_OFF;
	for (i = 0; i < NIOV; i++) {
		iov[i].iov_base = dst + off;
		iov[i].iov_len = sizes[i];
		off += sizes[i];
	}
	sqe = uring_get_sqe(&r, &idx);
	if (!sqe) {
		ctl->err = EBUSY;
		return 6;
	}
	sqe->opcode = IORING_OP_READV;
	sqe->fd = ctl->data_fd >= 0 ? ctl->data_fd : 0;
	sqe->flags = (ctl->data_fd < 0 ? IOSQE_FIXED_FILE : 0) |
		     (ctl->mode == M_ASYNC ? IOSQE_ASYNC : 0);
	sqe->addr = (uint64_t)(uintptr_t)iov;
	sqe->len = (unsigned)NIOV;
	sqe->off = 0;
	sqe->user_data = ctl->user_data;
	ktap_diag("child (%s, pid %d): READV fd=%d%s flags=0x%x iovecs=%u of %zu bytes at %p",
		  MY_ABI, (int)getpid(), sqe->fd, ctl->data_fd < 0 ? " (fixed)" : "",
		  sqe->flags, sqe->len, sizeof(struct iovec), (void *)iov);
	uring_publish(&r, idx);
	ret = uring_submit(&r, 1, ctl->mode == M_SQPOLL);
	ctl->enter_ret = ret;
	if (ret < 0) {
		ctl->err = -ret;
		return 7;
	}
	ctl->stage = 2;
	if (uring_wait_cqe(&r, ctl->mode == M_SQPOLL, &cqe, CHILD_WAIT_MS) < 0) {
		ctl->err = ETIMEDOUT;
		return 8;
	}
	uring_diag_cqe("child: READV", &cqe);
	ctl->res = cqe.res;
	ctl->stage = 3;
	/* Unmap but leave the fd alone: the ring belongs to the parent. */
	r.fd = -1;
	uring_close(&r);
	return 0;
}

/* --------------------------------------------------------------- parent */

struct outcome {
	int ran;            /* the child got as far as a CQE (or a refusal) */
	enum mode mode;
	const char *layout; /* creator / submitter / refused / other */
	int setup_errno;    /* run_one() returned 1: io_uring_setup refused the SQPOLL ring */
};

static unsigned char *arena;
static int arena_fd = -1;

static int setup_arena(void)
{
	size_t i;

	arena_fd = (int)syscall(SYS_memfd_create, "kseries-arena", 0u);
	if (arena_fd < 0 || ftruncate(arena_fd, ARENA_LEN) < 0) {
		ktap_diag_ret("memfd arena", -1, errno);
		return -1;
	}
	for (i = 0; i < sizeof(arena_addrs) / sizeof(arena_addrs[0]); i++) {
		void *want = (void *)arena_addrs[i];
		void *got = mmap(want, ARENA_LEN, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, arena_fd, 0);

		if (got == want) {
			arena = got;
			ktap_diag("arena: memfd fd=%d mapped at %p (%d bytes)", arena_fd, got,
				  ARENA_LEN);
			return 0;
		}
		if (got != MAP_FAILED)
			munmap(got, ARENA_LEN); /* NOREPLACE unknown (< 4.17): a hint */
	}
	ktap_diag("arena: no fixed address below 4 GiB was free");
	return -1;
}

/* Path of this binary and of its sibling of the other ABI. */
static int find_binaries(char *self, size_t selflen, char *sib, size_t siblen)
{
	char mine[32], other[32];
	ssize_t n = readlink("/proc/self/exe", self, selflen - 1);
	char *at, *last = NULL;

	if (n <= 0)
		return -1;
	self[n] = 0;
	snprintf(mine, sizeof(mine), "/%s/", MY_ABI);
	snprintf(other, sizeof(other), "/%s/", OTHER_ABI);
	for (at = strstr(self, mine); at; at = strstr(at + 1, mine))
		last = at;
	if (!last) {
		snprintf(sib, siblen, "(no /%s/ directory in %s)", MY_ABI, self);
		return 0;
	}
	snprintf(sib, siblen, "%.*s%s%s", (int)(last - self), self, other,
		 last + strlen(mine));
	return 1;
}

static pid_t spawn(const char *path, int ring_fd)
{
	char a_ring[16], a_arena[16], a_addr[32];
	char *argv[6];
	pid_t pid;

	snprintf(a_ring, sizeof(a_ring), "%d", ring_fd);
	snprintf(a_arena, sizeof(a_arena), "%d", arena_fd);
	snprintf(a_addr, sizeof(a_addr), "%lx", (unsigned long)(uintptr_t)arena);
	argv[0] = (char *)path;
	argv[1] = (char *)"--child";
	argv[2] = a_ring;
	argv[3] = a_arena;
	argv[4] = a_addr;
	argv[5] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(path, argv);
		ktap_diag("exec %s: errno=%d %s", path, errno, ktap_errname(errno));
		_exit(127);
	}
	return pid;
}

/*
 * One run: ring created here (mode decides SQPOLL), child `path` of ABI
 * `child_abi` submits. Fills *o; returns 0, 1 if the kernel refused to
 * create the SQPOLL ring (o->setup_errno), or -1 if the machinery (not
 * the kernel's io_uring semantics) failed, with the reason printed.
 */
static int run_one(const char *what, const char *path, const char *child_abi,
		   enum mode mode, int data_fd, struct outcome *o)
{
	struct ctl *ctl = (struct ctl *)arena;
	unsigned char *dst = arena + DST_OFF;
	int sqpoll = mode == M_SQPOLL, status, ret, intact, untouched, i;
	struct uring r;

	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->layout = "other";
	ret = uring_open(&r, 4, sqpoll ? IORING_SETUP_SQPOLL : 0, sqpoll ? 100 : 0);
	if (ret < 0 && sqpoll && (ret == -EINVAL || ret == -EPERM)) {
		ktap_diag("%s: ring setup refused: errno=%d %s", what, -ret, ktap_errname(-ret));
		o->setup_errno = -ret;
		return 1;
	}
	if (ret < 0) {
		ktap_diag("%s: ring setup failed: errno=%d %s", what, -ret, ktap_errname(-ret));
		return -1;
	}
	if (sqpoll && uring_register_file(&r, data_fd) < 0) {
		uring_close(&r);
		return -1;
	}
	if (fcntl(r.fd, F_SETFD, 0) < 0) {
		ktap_diag_ret("fcntl(ring fd, F_SETFD, 0)", -1, errno);
		uring_close(&r);
		return -1;
	}

	memset(arena, 0, DST_OFF);
	memset(dst, PROBE_CANARY, FILE_LEN + 64);
	ctl->magic = CTL_MAGIC;
	ctl->mode = (uint32_t)mode;
	ctl->data_fd = sqpoll ? -1 : data_fd;
	ctl->file_len = FILE_LEN;
	ctl->user_data = 0x6b73657800000000ull | (uint32_t)mode;
	memcpy(ctl->params, &r.p, sizeof(r.p));

	ktap_diag("%s: ring by %s (fd %d, flags 0x%x), child %s: %s", what, MY_ABI, r.fd,
		  r.p.flags, child_abi, path);
	{
		pid_t pid = spawn(path, r.fd);

		status = pid > 0 ? probe_reap_child(pid, REAP_MS) : -1;
	}
	uring_close(&r);
	ktap_diag("%s: child wait status 0x%x, stage %u, io_uring_enter %d, errno %d%s%s, child iovec %u bytes",
		  what, status, ctl->stage, ctl->enter_ret, ctl->err, ctl->err ? " " : "",
		  ctl->err ? ktap_errname(ctl->err) : "", ctl->iovec_size);
	if (status < 0 || !WIFEXITED(status)) {
		ktap_diag("%s: the child did not exit normally", what);
		return -1;
	}
	if (WEXITSTATUS(status) == 7 && ctl->stage == 1 &&
	    (ctl->err == EPERM || ctl->err == EACCES || ctl->err == EEXIST ||
	     ctl->err == EOPNOTSUPP || ctl->err == EINVAL)) {
		o->ran = 1;
		o->layout = "refused";
		return 0;
	}
	if (WEXITSTATUS(status) != 0 || ctl->stage != 3) {
		ktap_diag("%s: the child failed before a completion (exit %d)", what,
			  WEXITSTATUS(status));
		return -1;
	}
	o->ran = 1;
	intact = ctl->res == FILE_LEN;
	if (ktap_compare("destination in the arena", dst, content, FILE_LEN) >= 0)
		intact = 0;
	untouched = 1;
	for (i = 0; i < FILE_LEN + 64; i++)
		if (dst[i] != PROBE_CANARY)
			untouched = 0;
	if (dst[FILE_LEN] != PROBE_CANARY)
		intact = 0;
	ktap_diag("%s: cqe.res=%d, destination %s", what, ctl->res,
		  intact ? "holds the file" : untouched ? "untouched" : "partly/wrongly written");
	if (intact)
		o->layout = "submitter";
	else if (untouched && strcmp(child_abi, MY_ABI) != 0 &&
		 ((sizeof(long) == 4 && ctl->res == 0) ||
		  (sizeof(long) == 8 && ctl->res == -EFAULT)))
		o->layout = "creator";
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const case_names[] = {
		"same_abi_child_inline", "same_abi_child_sqpoll", "cross_abi_inline",
		"cross_abi_async", "cross_abi_sqpoll", "cross_abi_consistent",
	};
	const int ncases = (int)(sizeof(case_names) / sizeof(case_names[0]));
	char self[PATH_MAX], sib[PATH_MAX + 64], reason[256];
	struct outcome o, cross[3];
	struct uring probe;
	int c, fd, ret, have_sib, m, ncross = 0;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);

	ktap_plan(ncases);
	probe_fill(content, FILE_LEN, 0xc0de);

	ret = uring_open(&probe, 4, 0, 0);
	if (ret < 0) {
		for (c = 0; c < ncases; c++) {
			if (uring_unavailable(-ret, reason, sizeof(reason)))
				ktap_skip(case_names[c], "%s", reason);
			else
				ktap_fail(case_names[c], "io_uring_setup: errno=%d %s", -ret,
					  ktap_errname(-ret));
		}
		return ktap_exit();
	}
	uring_close(&probe);

	fd = probe_scratch_fd("io_uring_cross_abi data", 0);
	if (fd >= 0 && (probe_pwrite_all(fd, content, FILE_LEN, 0) != FILE_LEN ||
			fcntl(fd, F_SETFD, 0) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || setup_arena() < 0) {
		for (c = 0; c < ncases; c++)
			ktap_fail(case_names[c], "no data file or shared arena");
		return ktap_exit();
	}
	have_sib = find_binaries(self, sizeof(self), sib, sizeof(sib));
	if (have_sib < 0) {
		for (c = 0; c < ncases; c++)
			ktap_fail(case_names[c], "readlink /proc/self/exe: errno=%d %s", errno,
				  ktap_errname(errno));
		return ktap_exit();
	}
	ktap_diag("this binary: %s (%s); sibling: %s", self, MY_ABI, sib);
	if (have_sib && access(sib, X_OK) < 0) {
		ktap_diag("sibling %s: errno=%d %s", sib, errno, ktap_errname(errno));
		have_sib = 0;
	}

	/* 1, 2: controls with this very binary as the child */
	for (m = 0; m < 2; m++) {
		enum mode mode = m ? M_SQPOLL : M_INLINE;
		const char *name = case_names[m];

		ret = run_one(name, self, MY_ABI, mode, fd, &o);
		if (ret < 0) {
			ktap_fail(name, "the control run failed (see above)");
			continue;
		}
		if (ret == 1) {
			ktap_skip(name, "the kernel refuses an SQPOLL ring to a %s task: errno=%d %s",
				  MY_ABI, o.setup_errno, ktap_errname(o.setup_errno));
			continue;
		}
		ktap_diag("cross_abi: ring=%s submitter=%s mode=%s layout=%s", MY_ABI, MY_ABI,
			  mode_names[mode], o.layout);
		if (strcmp(o.layout, "refused") == 0)
			ktap_skip(name, "the kernel refuses submissions from a task other than "
				  "the ring's creator");
		else
			ktap_result(strcmp(o.layout, "submitter") == 0, name,
				    "expected the data intact (same ABI)");
	}

	/* 3-5: the sibling ABI */
	for (m = 0; m < 3; m++) {
		const char *name = case_names[2 + m];

		if (!have_sib) {
			ktap_skip(name, "no sibling binary of the other ABI: %s", sib);
			continue;
		}
		ret = run_one(name, sib, OTHER_ABI, (enum mode)m, fd, &cross[ncross]);
		if (ret < 0) {
			ktap_fail(name, "the run failed before a completion (see above)");
			continue;
		}
		if (ret == 1) {
			ktap_skip(name, "the kernel refuses an SQPOLL ring to a %s task: errno=%d %s",
				  MY_ABI, cross[ncross].setup_errno,
				  ktap_errname(cross[ncross].setup_errno));
			continue;
		}
		ktap_diag("cross_abi: ring=%s submitter=%s mode=%s layout=%s res=%d", MY_ABI,
			  OTHER_ABI, mode_names[m], cross[ncross].layout,
			  ((struct ctl *)arena)->res);
		ktap_result(strcmp(cross[ncross].layout, "other") != 0, name,
			    "accepted layouts: creator, submitter, refused");
		ncross++;
	}

	/* 6: judged on the runs that completed (a failed run is reported above) */
	if (!have_sib) {
		ktap_skip(case_names[5], "no sibling binary of the other ABI: %s", sib);
	} else if (ncross < 2) {
		ktap_skip(case_names[5], "only %d of 3 cross-ABI runs completed; nothing to compare",
			  ncross);
	} else {
		int same = 1;

		for (m = 1; m < ncross; m++)
			if (strcmp(cross[0].layout, cross[m].layout) != 0)
				same = 0;
		for (m = 0; m < ncross; m++)
			ktap_diag("completed run %d: mode=%s layout=%s", m, mode_names[cross[m].mode],
				  cross[m].layout);
		ktap_result(same, case_names[5], "%d of 3 runs compared; a ring's ABI must not "
			    "depend on the submission path", ncross);
	}

	close(fd);
	return ktap_exit();
}
