/*
 * io_submit - Linux native AIO (io_setup/io_submit/io_getevents, raw
 * syscalls, struct iocb from <linux/aio_abi.h>) with vectored commands.
 *
 * struct iocb has the same layout in both ABIs (u64 fields), but for
 * IOCB_CMD_PREADV/PWRITEV aio_buf points at an iovec array in the caller's
 * ABI (compat layout in the i386 build) and aio_nbytes is its count; the
 * kernel imports it at submission (aio_setup_rw: import_iovec / compat).
 * Pointers go into the u64 fields through uintptr_t.
 *
 * Buffered AIO on tmpfs completes synchronously inside io_submit, so the
 * events are there at once; io_getevents is still bounded by a timeout
 * (5 s in 100 ms slices). aio_context_t is an unsigned long: 32-bit on i386.
 *
 * Cases:
 *   io_setup                 context for 8 events
 *   pwritev                  IOCB_CMD_PWRITEV, 6 iovecs (two zero-length),
 *                            at offset 4096 + 13; pread back, compare
 *   preadv                   IOCB_CMD_PREADV into 4 differently sized iovecs
 *   preadv_many_iovecs       IOCB_CMD_PREADV with 20 iovecs (> UIO_FASTIOV)
 *   two_iocbs_one_submit     a PWRITEV and a PREADV of another range in one
 *                            io_submit (nr = 2); both events, both checked
 *   preadv_bad_iovec_array   aio_buf = 1: io_submit returns -EFAULT for the
 *                            first iocb, no event is queued
 *   preadv_too_many_iovecs   aio_nbytes = UIO_MAXIOV + 1: -EINVAL
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/aio_abi.h>

#include "probe.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static const char *const case_names[] = {
	"io_setup", "pwritev", "preadv", "preadv_many_iovecs",
	"two_iocbs_one_submit", "preadv_bad_iovec_array", "preadv_too_many_iovecs",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

#define OFF 4109 /* 4096 + 13 */
#define LEN 10000

/* The kernel's timespec for io_getevents in this ABI (old 32-bit on i386). */
struct abi_timespec {
	long tv_sec;
	long tv_nsec;
};

static unsigned char src[LEN], dst[LEN + 1], back[LEN];
static aio_context_t ctx;

static long sys_io_setup(unsigned nr, aio_context_t *c)
{
	return syscall(SYS_io_setup, nr, c);
}

static long sys_io_submit(aio_context_t c, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, c, nr, iocbs);
}

static long sys_io_destroy(aio_context_t c)
{
	return syscall(SYS_io_destroy, c);
}

/*
 * io_getevents(ctx, min_nr, nr, ev, timeout) with a timeout of `ms`. On
 * i386 io_getevents takes the old 32-bit timespec and is missing without
 * CONFIG_COMPAT_32BIT_TIME; then fall back to io_pgetevents_time64 (5.1+).
 */
static long getevents(long min_nr, long nr, struct io_event *ev, long ms)
{
	static int use_time64;
	long ret;

	if (!use_time64) {
		struct abi_timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		ret = syscall(SYS_io_getevents, ctx, min_nr, nr, ev, &ts);
		if (!(ret < 0 && errno == ENOSYS))
			return ret;
#ifdef SYS_io_pgetevents_time64
		ktap_diag("io_getevents: ENOSYS, using io_pgetevents_time64");
		use_time64 = 1;
#else
		return ret;
#endif
	}
#ifdef SYS_io_pgetevents_time64
	{
		struct {
			int64_t tv_sec;
			int64_t tv_nsec;
		} ts64 = { ms / 1000, (ms % 1000) * 1000000L };

		ret = syscall(SYS_io_pgetevents_time64, ctx, min_nr, nr, ev, &ts64, NULL);
	}
#endif
	return ret;
}

/* Collect `want` events within 5 s. Returns how many arrived. */
static int get_events(struct io_event *ev, int want)
{
	int64_t deadline = probe_now_ms() + 5000;
	int got = 0;

	while (got < want && probe_now_ms() < deadline) {
		long n;

		errno = 0;
		n = getevents(1L, (long)(want - got), ev + got, 100);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ktap_diag_ret("io_getevents", n, errno);
			break;
		}
		got += (int)n;
	}
	ktap_diag("io_getevents: %d of %d event(s)", got, want);
	return got;
}

static void prep(struct iocb *cb, int fd, unsigned opcode, const struct iovec *iov,
		 unsigned n, long long off, uint64_t data)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = data;
	cb->aio_lio_opcode = (uint16_t)opcode;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uint64_t)(uintptr_t)iov;
	cb->aio_nbytes = n;
	cb->aio_offset = off;
}

/* Submit one iocb and wait for its event; returns event.res (or -1000 + evidence). */
static long one(const char *what, struct iocb *cb)
{
	struct iocb *list[1] = { cb };
	struct io_event ev;
	long ret;

	errno = 0;
	ret = sys_io_submit(ctx, 1, list);
	ktap_diag("%s: iocb opcode=%u fd=%u aio_buf=0x%llx aio_nbytes=%llu aio_offset=%lld",
		  what, cb->aio_lio_opcode, cb->aio_fildes, (unsigned long long)cb->aio_buf,
		  (unsigned long long)cb->aio_nbytes, (long long)cb->aio_offset);
	ktap_diag_ret("io_submit", ret, errno);
	if (ret != 1)
		return -1000;
	if (get_events(&ev, 1) != 1)
		return -1000;
	ktap_diag("event: data=0x%llx res=%lld res2=%lld", (unsigned long long)ev.data,
		  (long long)ev.res, (long long)ev.res2);
	if (ev.data != cb->aio_data) {
		ktap_diag("event data 0x%llx does not match the iocb's 0x%llx",
			  (unsigned long long)ev.data, (unsigned long long)cb->aio_data);
		return -1000;
	}
	if (ev.res < 0)
		ktap_diag("event res: errno=%d %s", (int)-ev.res, ktap_errname((int)-ev.res));
	return (long)ev.res;
}

static int check_dst(long res, const unsigned char *want, size_t len, const char *what)
{
	return probe_read_ok(what, res, dst, want, len, "data past the last iovec");
}

int main(void)
{
	static struct iovec many[UIO_MAXIOV + 1];
	static const size_t ws[] = { 5, 0, 4091, 1, 0, 5903 };
	static const size_t rs[] = { 4096, 1, 4000, 1903 };
	struct iovec wiov[6], riov[20];
	struct iocb cb, cb2, *list[2];
	struct io_event ev[2];
	long ret;
	int fd, c, pass, i;

	ktap_plan(NCASES);
	probe_fill(src, LEN, 0xa10);

	errno = 0;
	ret = sys_io_setup(8, &ctx);
	ktap_diag_ret("io_setup(8)", ret, errno);
	if (ret < 0) {
		int err = errno;

		if (err == ENOSYS) {
			for (c = 0; c < NCASES; c++)
				ktap_skip(case_names[c], "io_setup: ENOSYS (no CONFIG_AIO)");
		} else {
			ktap_fail("io_setup", "errno=%d %s", err, ktap_errname(err));
			for (c = 1; c < NCASES; c++)
				ktap_skip(case_names[c], "no aio context");
		}
		return ktap_exit();
	}
	fd = probe_scratch_fd("io_submit", 0);
	if (fd < 0) {
		ktap_fail("io_setup", "context 0x%lx but no scratch file", (unsigned long)ctx);
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no scratch file");
		sys_io_destroy(ctx);
		return ktap_exit();
	}
	ktap_ok("io_setup", "context 0x%lx (sizeof(aio_context_t)=%zu, sizeof(struct iocb)=%zu)",
		(unsigned long)ctx, sizeof(aio_context_t), sizeof(struct iocb));

	/* 2: PWRITEV */
	probe_split_iov(wiov, src, ws, 6);
	prep(&cb, fd, IOCB_CMD_PWRITEV, wiov, 6, OFF, 0x1001);
	ret = one("pwritev", &cb);
	pass = ret == LEN;
	if (probe_pread_all(fd, back, LEN, OFF) != LEN ||
	    ktap_compare("file data at offset 4109", back, src, LEN) >= 0)
		pass = 0;
	ktap_result(pass, "pwritev", "expected res=%d", LEN);

	/* 3: PREADV */
	memset(dst, PROBE_CANARY, sizeof(dst));
	probe_split_iov(riov, dst, rs, 4);
	prep(&cb, fd, IOCB_CMD_PREADV, riov, 4, OFF, 0x1002);
	ret = one("preadv", &cb);
	ktap_result(check_dst(ret, src, LEN, "preadv data"), "preadv", "expected res=%d", LEN);

	/* 4: PREADV with 20 iovecs of 500 bytes */
	memset(dst, PROBE_CANARY, sizeof(dst));
	for (i = 0; i < 20; i++) {
		riov[i].iov_base = dst + i * 500;
		riov[i].iov_len = 500;
	}
	prep(&cb, fd, IOCB_CMD_PREADV, riov, 20, OFF, 0x1003);
	ret = one("preadv 20 iovecs", &cb);
	ktap_result(check_dst(ret, src, LEN, "preadv 20 iovecs data"), "preadv_many_iovecs",
		    "expected res=%d", LEN);

	/* 5: two iocbs in one io_submit */
	{
		int got, ok_w = 0, ok_r = 0;

		probe_fill(src, 3000, 0xa11); /* new content for the write */
		wiov[0].iov_base = src;
		wiov[0].iov_len = 1000;
		wiov[1].iov_base = src + 1000;
		wiov[1].iov_len = 2000;
		prep(&cb, fd, IOCB_CMD_PWRITEV, wiov, 2, 50000, 0x2001);
		memset(dst, PROBE_CANARY, sizeof(dst));
		riov[0].iov_base = dst;
		riov[0].iov_len = 7;
		riov[1].iov_base = dst + 7;
		riov[1].iov_len = LEN - 3000 - 7;
		/* reads the untouched tail [OFF + 3000, OFF + LEN) */
		prep(&cb2, fd, IOCB_CMD_PREADV, riov, 2, OFF + 3000, 0x2002);
		list[0] = &cb;
		list[1] = &cb2;
		errno = 0;
		ret = sys_io_submit(ctx, 2, list);
		ktap_diag_ret("io_submit(nr=2)", ret, errno);
		got = ret == 2 ? get_events(ev, 2) : 0;
		for (i = 0; i < got; i++) {
			ktap_diag("event: data=0x%llx res=%lld", (unsigned long long)ev[i].data,
				  (long long)ev[i].res);
			if (ev[i].data == 0x2001 && ev[i].res == 3000)
				ok_w = 1;
			if (ev[i].data == 0x2002 && ev[i].res == LEN - 3000)
				ok_r = 1;
		}
		pass = ret == 2 && got == 2 && ok_w && ok_r;
		if (probe_pread_all(fd, back, 3000, 50000) != 3000 ||
		    ktap_compare("write at 50000", back, src, 3000) >= 0)
			pass = 0;
		probe_fill(back, LEN, 0xa10); /* the original content */
		if (ok_r && ktap_compare("read of [OFF+3000, OFF+LEN)", dst, back + 3000,
					 LEN - 3000) >= 0)
			pass = 0;
		ktap_result(pass, "two_iocbs_one_submit", "expected res 3000 and %d", LEN - 3000);
	}

	/* 6: bad iovec array pointer */
	{
		struct io_event stray;
		long n;

		memset(&cb, 0, sizeof(cb));
		prep(&cb, fd, IOCB_CMD_PREADV, NULL, 2, 0, 0x3001);
		cb.aio_buf = 1;
		list[0] = &cb;
		errno = 0;
		ret = sys_io_submit(ctx, 1, list);
		ktap_diag_ret("io_submit(PREADV, aio_buf=1, aio_nbytes=2)", ret, errno);
		pass = ret == -1 && errno == EFAULT;
		n = getevents(0L, 1L, &stray, 0);
		ktap_diag("events queued afterwards: %ld (want 0)", n);
		if (n != 0)
			pass = 0;
		ktap_result(pass, "preadv_bad_iovec_array", "expected io_submit ret=-1 errno=EFAULT");
	}

	/* 7: too many iovecs */
	for (i = 0; i <= UIO_MAXIOV; i++) {
		many[i].iov_base = dst;
		many[i].iov_len = 1;
	}
	prep(&cb, fd, IOCB_CMD_PREADV, many, UIO_MAXIOV + 1, 0, 0x4001);
	list[0] = &cb;
	errno = 0;
	ret = sys_io_submit(ctx, 1, list);
	ktap_diag_ret("io_submit(PREADV, aio_nbytes=1025)", ret, errno);
	ktap_result(ret == -1 && errno == EINVAL, "preadv_too_many_iovecs",
		    "expected io_submit ret=-1 errno=EINVAL");

	close(fd);
	errno = 0;
	ret = sys_io_destroy(ctx);
	if (ret < 0)
		ktap_diag_ret("io_destroy", ret, errno);
	return ktap_exit();
}
