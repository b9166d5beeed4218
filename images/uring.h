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

#include "ktap.h"

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
 * io_uring_setup() + mmap of SQ ring, CQ ring and SQE array.
 * Returns 0, or -errno with evidence printed as diagnostics. On failure of
 * io_uring_setup() itself the ring is left closed and r->fd == -1.
 */
static inline int uring_open(struct uring *r, unsigned entries, unsigned flags,
			     unsigned sq_thread_idle_ms)
{
	char *sq, *cq;
	int err;

	memset(r, 0, sizeof(*r));
	r->p.flags = flags;
	r->p.sq_thread_idle = sq_thread_idle_ms;
	errno = 0;
	r->fd = sys_io_uring_setup(entries, &r->p);
	err = errno;
	if (r->fd < 0) {
		ktap_diag_ret("io_uring_setup", -1, err);
		r->fd = -1;
		return -err;
	}
	ktap_diag("io_uring_setup(%u, flags=0x%x): fd=%d sq_entries=%u cq_entries=%u features=0x%x",
		  entries, flags, r->fd, r->p.sq_entries, r->p.cq_entries,
		  r->p.features);

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
	uring_close(r);
	return -err;
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

#endif /* KSERIES_URING_H */
