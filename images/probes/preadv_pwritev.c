/*
 * preadv_pwritev - positional vectored I/O at 64-bit offsets above 4 GiB on
 * a sparse tmpfs file, through the raw syscalls and through libc.
 *
 * The 32-bit ABI passes the 64-bit offset split across two registers
 * (pos_low, pos_high); a kernel that joins them wrongly (swapped halves,
 * sign-extended low word, high word dropped) puts the data somewhere else.
 * Every write is therefore checked where it must have landed: pread() of
 * the exact range plus one byte on either side (the sparse holes around it
 * must still read as zeros) and the file size (must end exactly at
 * offset + length). Every read is checked byte for byte against data put
 * there with pwrite().
 *
 * The raw calls are syscall(SYS_pwritev, fd, iov, cnt, lo, hi): on i386
 * lo/hi are the two 32-bit halves; on x86_64 the kernel takes the whole
 * offset from the first register (pos_from_hilo() shifts the high word out).
 * The offsets have bit 31 set in their low word, so a sign-extension of the
 * low half shows up too.
 *
 * Cases:
 *   create_file             sparse scratch file (/tmp on tmpfs, else memfd)
 *   pwritev_raw_split       raw SYS_pwritev at 0x1_8000_0011
 *   preadv_raw_split        raw SYS_preadv at 0x2_8000_1003
 *   pwritev_libc            pwritev() at 0x3_0000_0ffd (glibc splits it)
 *   preadv_libc             preadv() at 0x3_ffff_fff1 (range crosses 16 GiB)
 *   preadv_negative_offset  offset -1 (high word 0xffffffff): EINVAL
 *   file_position_unchanged none of the above moved the file position
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

static const char *const case_names[] = {
	"create_file", "pwritev_raw_split", "preadv_raw_split", "pwritev_libc",
	"preadv_libc", "preadv_negative_offset", "file_position_unchanged",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

/* Write side split (zero-length entry included), read side split differently. */
static const size_t wsizes[] = { 7, 4096, 0, 1, 3000, 9 };
static const size_t rsizes[] = { 4000, 1, 0, 2500, 612 };
#define NW (sizeof(wsizes) / sizeof(wsizes[0]))
#define NR (sizeof(rsizes) / sizeof(rsizes[0]))
#define TOTAL 7113 /* sum of either table */

#define POS_START ((off_t)12345) /* where the file position is parked */

static unsigned char src[TOTAL], wbuf[TOTAL], dst[TOTAL + 1], around[TOTAL + 2];
static off_t max_end; /* highest offset + length written so far */

/* The two register words the calling ABI passes for `pos`. */
static void split_pos(uint64_t pos, unsigned long *lo, unsigned long *hi)
{
	*lo = (unsigned long)pos;
	/* two shifts, like the kernel's pos_from_hilo(): 0 on a 64-bit ABI */
	*hi = (unsigned long)((pos >> (sizeof(long) * 4)) >> (sizeof(long) * 4));
}

static long raw_prwv(long nr, const char *what, int fd, const struct iovec *iov,
		     int cnt, uint64_t pos, int *err)
{
	unsigned long lo, hi;
	long ret;

	if (PROBE_X32) {
		/* x32's preadv/pwritev take the offset whole, in one 64-bit register */
		ktap_diag("%s: syscall(%ld, fd=%d, iov, %d, pos=0x%llx) (x32: one register)",
			  what, nr, fd, cnt, (unsigned long long)pos);
		errno = 0;
		ret = syscall(nr, fd, iov, cnt, (unsigned long long)pos);
		*err = errno;
		ktap_diag_ret(what, ret, *err);
		return ret;
	}
	split_pos(pos, &lo, &hi);
	ktap_diag("%s: syscall(%ld, fd=%d, iov, %d, lo=0x%lx, hi=0x%lx) for offset 0x%llx",
		  what, nr, fd, cnt, lo, hi, (unsigned long long)pos);
	errno = 0;
	ret = syscall(nr, fd, iov, cnt, lo, hi);
	*err = errno;
	ktap_diag_ret(what, ret, *err);
	return ret;
}

/*
 * Did exactly src[0..TOTAL) land at `pos`? pread from pos-1 to pos+TOTAL+1:
 * the bytes either side must be holes (0), the middle must equal src.
 */
static int verify_landed(int fd, off_t pos)
{
	struct stat st;
	ssize_t n;
	int pass = 1;

	memset(around, 0xee, sizeof(around));
	n = probe_pread_all(fd, around, sizeof(around), pos - 1);
	ktap_diag("pread(%zu bytes at 0x%llx): ret=%zd", sizeof(around),
		  (unsigned long long)(pos - 1), n);
	if (n < (ssize_t)(TOTAL + 1)) {
		ktap_diag("short read back");
		return 0;
	}
	if (around[0] != 0) {
		ktap_diag("byte before the range is 0x%02x, want 0x00 (hole)", around[0]);
		pass = 0;
	}
	if (ktap_compare("data at the exact 64-bit offset", around + 1, src, TOTAL) >= 0)
		pass = 0;
	if (n == (ssize_t)sizeof(around) && around[TOTAL + 1] != 0) {
		ktap_diag("byte after the range is 0x%02x, want 0x00", around[TOTAL + 1]);
		pass = 0;
	}
	if (pos + TOTAL > max_end)
		max_end = pos + TOTAL;
	if (fstat(fd, &st) == 0) {
		ktap_diag("file size 0x%llx, want 0x%llx", (unsigned long long)st.st_size,
			  (unsigned long long)max_end);
		if (st.st_size != max_end)
			pass = 0;
	}
	return pass;
}

/* Check a vectored read of TOTAL bytes into dst against src. */
static int verify_read(long ret, const char *what)
{
	return probe_read_ok(what, ret, dst, src, TOTAL, "read past the last iovec");
}

/* EFBIG/ENOSYS/EOVERFLOW on the write: the file cannot go there at all. */
static int offset_unsupported(long ret, int err)
{
	return ret < 0 && (err == EFBIG || err == ENOSYS || err == EOVERFLOW);
}

int main(void)
{
	struct iovec wiov[NW], riov[NR];
	long ret;
	int fd, err, c, pass;
	off_t pos;

	ktap_plan(NCASES);
	probe_fill(src, TOTAL, 0x9e);

	/* 1: sparse file; /tmp first (the brief's tmpfs), memfd if that fails */
	fd = probe_scratch_fd("preadv_pwritev", 0);
	if (fd >= 0 && ftruncate(fd, 0) < 0)
		ktap_diag_ret("ftruncate", -1, errno);
	if (fd < 0) {
		ktap_fail("create_file", "no scratch file could be created");
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no scratch file");
		return ktap_exit();
	}
	/* Probe the 64-bit reach once; fall back to memfd if /tmp refuses. */
	errno = 0;
	ret = pwrite(fd, "x", 1, (off_t)0x400000000ll);
	if (ret != 1 || ftruncate(fd, 0) < 0) {
		ktap_diag_ret("pwrite(1 byte at 16 GiB) + ftruncate(0)", ret, errno);
		close(fd);
		fd = probe_scratch_fd("preadv_pwritev", 1);
		if (fd < 0) {
			ktap_fail("create_file", "no scratch file could be created");
			for (c = 1; c < NCASES; c++)
				ktap_skip(case_names[c], "no scratch file");
			return ktap_exit();
		}
	}
	if (lseek(fd, POS_START, SEEK_SET) != POS_START)
		ktap_diag_ret("lseek", -1, errno);
	ktap_ok("create_file", "file position parked at %lld", (long long)POS_START);

	/* 2: raw pwritev, offset split by hand */
	pos = (off_t)0x180000011ll;
	memcpy(wbuf, src, TOTAL);
	probe_split_iov(wiov, wbuf, wsizes, NW);
	ret = raw_prwv(SYS_pwritev, "pwritev raw", fd, wiov, (int)NW, (uint64_t)pos, &err);
	if (offset_unsupported(ret, err)) {
		ktap_skip("pwritev_raw_split", "offset 0x%llx not supported: %s",
			  (unsigned long long)pos, ktap_errname(err));
	} else {
		pass = ret == TOTAL;
		if (!verify_landed(fd, pos))
			pass = 0;
		ktap_result(pass, "pwritev_raw_split", "expected ret=%d at offset 0x%llx",
			    TOTAL, (unsigned long long)pos);
	}

	/* 3: raw preadv of data placed with pwrite() */
	pos = (off_t)0x280001003ll;
	errno = 0;
	ret = probe_pwrite_all(fd, src, TOTAL, pos);
	if (ret != TOTAL) {
		ktap_diag_ret("pwrite reference data", ret, errno);
		if (offset_unsupported(-1, errno))
			ktap_skip("preadv_raw_split", "pwrite at 0x%llx: %s",
				  (unsigned long long)pos, ktap_errname(errno));
		else
			ktap_fail("preadv_raw_split", "could not place the reference data");
	} else {
		if (pos + TOTAL > max_end)
			max_end = pos + TOTAL;
		memset(dst, PROBE_CANARY, sizeof(dst));
		probe_split_iov(riov, dst, rsizes, NR);
		ret = raw_prwv(SYS_preadv, "preadv raw", fd, riov, (int)NR, (uint64_t)pos, &err);
		ktap_result(verify_read(ret, "preadv raw data"), "preadv_raw_split",
			    "expected ret=%d from offset 0x%llx", TOTAL,
			    (unsigned long long)pos);
	}

	/* 4: libc pwritev (pwritev64 with _FILE_OFFSET_BITS=64) */
	pos = (off_t)0x300000ffdll;
	probe_split_iov(wiov, wbuf, wsizes, NW);
	errno = 0;
	ret = pwritev(fd, wiov, (int)NW, pos);
	err = errno;
	ktap_diag("pwritev libc at 0x%llx (sizeof(off_t)=%zu)", (unsigned long long)pos,
		  sizeof(off_t));
	ktap_diag_ret("pwritev libc", ret, err);
	if (offset_unsupported(ret, err)) {
		ktap_skip("pwritev_libc", "offset not supported: %s", ktap_errname(err));
	} else {
		pass = ret == TOTAL;
		if (!verify_landed(fd, pos))
			pass = 0;
		ktap_result(pass, "pwritev_libc", "expected ret=%d", TOTAL);
	}

	/* 5: libc preadv across the 16 GiB boundary (carry into the high word) */
	pos = (off_t)0x3fffffff1ll;
	errno = 0;
	ret = probe_pwrite_all(fd, src, TOTAL, pos);
	if (ret != TOTAL) {
		ktap_diag_ret("pwrite reference data", ret, errno);
		ktap_fail("preadv_libc", "could not place the reference data");
	} else {
		if (pos + TOTAL > max_end)
			max_end = pos + TOTAL;
		memset(dst, PROBE_CANARY, sizeof(dst));
		probe_split_iov(riov, dst, rsizes, NR);
		errno = 0;
		ret = preadv(fd, riov, (int)NR, pos);
		err = errno;
		ktap_diag("preadv libc at 0x%llx", (unsigned long long)pos);
		ktap_diag_ret("preadv libc", ret, err);
		ktap_result(verify_read(ret, "preadv libc data"), "preadv_libc",
			    "expected ret=%d", TOTAL);
	}

	/* 6: offset -1 (both words all ones) is invalid for preadv */
	memset(dst, PROBE_CANARY, sizeof(dst));
	probe_split_iov(riov, dst, rsizes, NR);
	ret = raw_prwv(SYS_preadv, "preadv raw offset -1", fd, riov, (int)NR,
		       (uint64_t)-1, &err);
	ktap_result(ret == -1 && err == EINVAL && dst[0] == PROBE_CANARY,
		    "preadv_negative_offset", "expected ret=-1 errno=EINVAL");

	/* 7: positional I/O must not have touched the file position */
	pos = lseek(fd, 0, SEEK_CUR);
	ktap_result(pos == POS_START, "file_position_unchanged",
		    "file position %lld, want %lld", (long long)pos, (long long)POS_START);

	close(fd);
	return ktap_exit();
}
