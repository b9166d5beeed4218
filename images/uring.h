/*
 * uring.h - minimal raw-syscall io_uring helpers for kseries probes.
 *
 * No liburing on purpose: the probes must be static, build for i386 and
 * x86_64 from the distro headers alone, and exercise the kernel interface
 * directly (ring layout from io_uring_params, explicit barriers on head/tail).
 *
 * The SQE array and the rings are mapped from the ring fd. Pointers placed
 * into the 64-bit SQE fields (addr) go through uintptr_t, so an i386 build
 * submits 32-bit user pointers and 32-bit iovec arrays (the compat path).
 */
#ifndef KSERIES_URING_H
#define KSERIES_URING_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include "probe.h"

/* The io_uring syscalls have the same numbers on x86_64 and i386. */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

static inline int sys_io_uring_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static inline int sys_io_uring_enter(int fd, unsigned to_submit,
				     unsigned min_complete, unsigned flags)
{
	/* No signal mask: sig = NULL, sigsz = 0. */
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			    flags, (void *)0, (size_t)0);
}

static inline int sys_io_uring_register(int fd, unsigned opcode,
					const void *arg, unsigned nr_args)
{
	return (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
}

/*
 * If io_uring_setup() failed with `err` because io_uring is unavailable on
 * this kernel (not built in, or disabled by sysctl on newer kernels), write
 * a skip reason into `buf` and return 1. Otherwise return 0: the failure is
 * a finding.
 */
static inline int uring_unavailable(int err, char *buf, size_t len)
{
	char val[16] = "";
	int fd;

	if (err == ENOSYS) {
		snprintf(buf, len, "io_uring_setup: ENOSYS (no io_uring in this kernel)");
		return 1;
	}
	if (err != EPERM)
		return 0;
	/* kernel.io_uring_disabled exists since 6.6; absent on older kernels. */
	fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, val, sizeof(val) - 1) > 0 && val[0] != '0') {
		val[strcspn(val, "\n")] = 0;
		snprintf(buf, len, "io_uring disabled (kernel.io_uring_disabled=%s)", val);
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

struct uring {
	int fd;
	struct io_uring_params p;
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
};

static inline void uring_close(struct uring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/*
 * mmap the SQ ring, CQ ring and SQE array of an existing ring fd, laid out
 * as `p` (the io_uring_params io_uring_setup() filled in) says. Used by
 * uring_open() and by a process that inherited the ring fd and was handed
 * the params (io_uring_params has the same layout in both ABIs).
 * Returns 0, or -errno with evidence printed; on failure the mappings are
 * undone but r->fd is left open (r->fd = fd either way).
 */
static inline int uring_map(struct uring *r, int fd, const struct io_uring_params *p)
{
	char *sq, *cq;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->p = *p;
	r->sq_map_len = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
	r->cq_map_len = r->p.cq_off.cqes +
			r->p.cq_entries * sizeof(struct io_uring_cqe);
	/* Since 5.4 both rings live in one mapping (IORING_FEAT_SINGLE_MMAP). */
	if (r->p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_len > r->sq_map_len)
			r->sq_map_len = r->cq_map_len;
		r->cq_map_len = r->sq_map_len;
	}
	r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED) {
		err = errno;
		ktap_diag_ret("mmap(IORING_OFF_SQ_RING)", -1, err);
		goto fail;
	}
	if (r->p.features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_map = r->sq_map;
	} else {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED) {
			err = errno;
			ktap_diag_ret("mmap(IORING_OFF_CQ_RING)", -1, err);
			goto fail;
		}
	}
	r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		err = errno;
		ktap_diag_ret("mmap(IORING_OFF_SQES)", -1, err);
		goto fail;
	}

	sq = r->sq_map;
	cq = r->cq_map;
	r->sq_head = (unsigned *)(sq + r->p.sq_off.head);
	r->sq_tail = (unsigned *)(sq + r->p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + r->p.sq_off.ring_mask);
	r->sq_flags = (unsigned *)(sq + r->p.sq_off.flags);
	r->sq_array = (unsigned *)(sq + r->p.sq_off.array);
	r->cq_head = (unsigned *)(cq + r->p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + r->p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + r->p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + r->p.cq_off.cqes);
	return 0;
fail:
	r->fd = -1; /* uring_close() must not close the caller's fd */
	uring_close(r);
	r->fd = fd;
	return -err;
}

/*
 * io_uring_setup() + mmap of SQ ring, CQ ring and SQE array.
 * Returns 0, or -errno with evidence printed as diagnostics. On failure of
 * io_uring_setup() itself the ring is left closed and r->fd == -1.
 */
static inline int uring_open(struct uring *r, unsigned entries, unsigned flags,
			     unsigned sq_thread_idle_ms)
{
	struct io_uring_params p;
	int fd, err;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.sq_thread_idle = sq_thread_idle_ms;
	errno = 0;
	fd = sys_io_uring_setup(entries, &p);
	err = errno;
	if (fd < 0) {
		ktap_diag_ret("io_uring_setup", -1, err);
		r->fd = -1;
		return -err;
	}
	ktap_diag("io_uring_setup(%u, flags=0x%x): fd=%d sq_entries=%u cq_entries=%u features=0x%x",
		  entries, flags, fd, p.sq_entries, p.cq_entries, p.features);
	err = uring_map(r, fd, &p);
	if (err < 0) {
		close(fd);
		r->fd = -1;
		return err;
	}
	return 0;
}

/*
 * Open the ring for test case `name`: 4 entries, SQPOLL (100 ms idle) if
 * `sqpoll`. If that fails the case is reported here: SKIP when io_uring is
 * unavailable or SQPOLL needs privilege (`sqpoll_note` is appended to that
 * reason), else not ok. Returns 0, or -1 once the case is reported.
 */
static inline int uring_open_case(struct uring *r, const char *name, int sqpoll,
				  const char *sqpoll_note)
{
	char reason[256];
	int ret;

	ret = uring_open(r, 4, sqpoll ? IORING_SETUP_SQPOLL : 0, sqpoll ? 100 : 0);
	if (ret == 0)
		return 0;
	if (uring_unavailable(-ret, reason, sizeof(reason)))
		ktap_skip(name, "%s", reason);
	else if (sqpoll && ret == -EPERM && geteuid() != 0)
		ktap_skip(name, "SQPOLL needs CAP_SYS_ADMIN before 5.11%s", sqpoll_note);
	else
		ktap_fail(name, "ring setup failed");
	return -1;
}

/*
 * IORING_REGISTER_FILES with the one file `fd` (fixed file index 0), with
 * the evidence printed. Returns what io_uring_register() returned.
 */
static inline int uring_register_file(struct uring *r, int fd)
{
	int32_t fds[1] = { fd };
	int ret;

	errno = 0;
	ret = sys_io_uring_register(r->fd, IORING_REGISTER_FILES, fds, 1);
	ktap_diag_ret("io_uring_register(IORING_REGISTER_FILES)", ret, errno);
	return ret;
}

/* Next free SQE (zeroed), or NULL if the SQ ring is full. */
static inline struct io_uring_sqe *uring_get_sqe(struct uring *r, unsigned *idx)
{
	unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	unsigned tail = *r->sq_tail; /* only we write the SQ tail */

	if (tail - head >= r->p.sq_entries)
		return NULL;
	*idx = tail & *r->sq_mask;
	memset(&r->sqes[*idx], 0, sizeof(r->sqes[*idx]));
	return &r->sqes[*idx];
}

/*
 * Publish the SQE at `idx`: fill the indirection array, then release-store
 * the new tail so the kernel (or the SQPOLL thread) sees a complete SQE.
 */
static inline void uring_publish(struct uring *r, unsigned idx)
{
	unsigned tail = *r->sq_tail;

	r->sq_array[tail & *r->sq_mask] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/* Pop one CQE into *out; returns 1 if there was one, 0 if the CQ is empty. */
static inline int uring_pop_cqe(struct uring *r, struct io_uring_cqe *out)
{
	unsigned head = *r->cq_head; /* only we write the CQ head */
	unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);

	if (head == tail)
		return 0;
	*out = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

/* ------------------------------------------------------------------------
 * Submission and bounded completion helpers (used by the newer probes).
 */

/*
 * Is `opcode` supported? Asks IORING_REGISTER_PROBE (5.6+).
 * Returns 1 yes, 0 no, -errno if the kernel cannot tell (older than 5.6).
 */
static inline int uring_op_supported(int ring_fd, unsigned opcode)
{
	static union {
		struct io_uring_probe probe;
		char bytes[sizeof(struct io_uring_probe) +
			   256 * sizeof(struct io_uring_probe_op)];
	} u;
	int ret;

	memset(&u, 0, sizeof(u));
	errno = 0;
	ret = sys_io_uring_register(ring_fd, IORING_REGISTER_PROBE, &u.probe, 256);
	if (ret < 0)
		return -errno;
	if (opcode > u.probe.last_op)
		return 0;
	return (u.probe.ops[opcode].flags & IO_URING_OP_SUPPORTED) ? 1 : 0;
}

/*
 * Hand the published SQEs to the kernel: inline, io_uring_enter(to_submit);
 * under SQPOLL, wake the poll thread if it sleeps. Prints the evidence.
 * Returns what io_uring_enter() returned (or 0 if it was not needed), or
 * -errno.
 */
static inline int uring_submit(struct uring *r, unsigned n, int sqpoll)
{
	int ret, err;

	if (sqpoll) {
		/*
		 * Full barrier between publishing the tail and reading the flags,
		 * pairing with the poll thread setting NEED_WAKEUP and re-checking
		 * the tail before it sleeps; otherwise both sides could miss.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP))
			return 0;
		errno = 0;
		ret = sys_io_uring_enter(r->fd, 0, 0, IORING_ENTER_SQ_WAKEUP);
		err = errno;
		ktap_diag_ret("io_uring_enter(SQ_WAKEUP)", ret, err);
		return ret < 0 ? -err : ret;
	}
	errno = 0;
	ret = sys_io_uring_enter(r->fd, n, 0, 0);
	err = errno;
	ktap_diag("io_uring_enter(to_submit=%u): ret=%d%s%s", n, ret,
		  ret < 0 ? " errno=" : "", ret < 0 ? ktap_errname(err) : "");
	return ret < 0 ? -err : ret;
}

/*
 * Wait for one CQE, at most `timeout_ms`. Each round reaps the CQ ring,
 * then calls io_uring_enter(IORING_ENTER_GETEVENTS) with min_complete = 0
 * (runs pending completion work without blocking) and sleeps 1 ms: a
 * blocking wait could only be bounded by a timer signal, and the kernels
 * kseries builds may lack POSIX timers. Under SQPOLL the poll thread is
 * woken whenever it went idle with our SQE unconsumed.
 * Returns 0 with *cqe filled, or -errno (-ETIMEDOUT) with evidence printed.
 */
static inline int uring_wait_cqe(struct uring *r, int sqpoll,
				 struct io_uring_cqe *cqe, int timeout_ms)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	int64_t deadline = probe_now_ms() + timeout_ms;
	int ret = 0, err;

	for (;;) {
		unsigned flags = IORING_ENTER_GETEVENTS;

		if (uring_pop_cqe(r, cqe))
			return 0;
		if (probe_now_ms() >= deadline) {
			ktap_diag("no CQE after %d ms: sq head=%u tail=%u flags=0x%x, cq head=%u tail=%u",
				  timeout_ms,
				  __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE),
				  *r->sq_tail,
				  __atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE),
				  *r->cq_head,
				  __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE));
			return -ETIMEDOUT;
		}
		if (sqpoll &&
		    __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) != *r->sq_tail &&
		    (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP))
			flags |= IORING_ENTER_SQ_WAKEUP;
		errno = 0;
		if (sys_io_uring_enter(r->fd, 0, 0, flags) < 0) {
			err = errno;
			if (err != EINTR && err != EAGAIN && err != EBUSY) {
				ktap_diag_ret("io_uring_enter(GETEVENTS)", -1, err);
				ret = -err;
				return ret;
			}
		}
		if (uring_pop_cqe(r, cqe))
			return 0;
		nanosleep(&tick, NULL);
	}
}

/* Print a CQE as evidence: "# what: cqe.res=N user_data=0x.. flags=0x.." */
static inline void uring_diag_cqe(const char *what, const struct io_uring_cqe *cqe)
{
	if (cqe->res < 0)
		ktap_diag("%s: cqe.res=%d errno=%d %s (%s) user_data=0x%llx",
			  what, cqe->res, -cqe->res, ktap_errname(-cqe->res),
			  strerror(-cqe->res), (unsigned long long)cqe->user_data);
	else
		ktap_diag("%s: cqe.res=%d user_data=0x%llx flags=0x%x", what,
			  cqe->res, (unsigned long long)cqe->user_data, cqe->flags);
}

#endif /* KSERIES_URING_H */
