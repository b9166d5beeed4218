/*
 * preadv2_pwritev2 - preadv2/pwritev2: the offset -1 convention (use and
 * advance the file position) and the per-call RWF_* flags, on tmpfs.
 *
 * The calls are raw syscalls in both builds: syscall(SYS_preadv2, fd, iov,
 * cnt, lo, hi, flags). On i386 (the compat entry) the 64-bit offset arrives
 * as two 32-bit words and the flags in the sixth register; -1 is lo = hi =
 * 0xffffffff and must be recognised after joining the halves. On x86_64
 * the whole offset is the first word (the kernel shifts the second out).
 * One case goes through glibc's preadv2() wrapper as well.
 *
 * Cases:
 *   create_file                  scratch file with 64 KiB of known content
 *   preadv2_offset_minus1        offset -1 reads at the file position and
 *                                advances it (lseek before/after)
 *   pwritev2_offset_minus1       offset -1 writes at the file position and
 *                                advances it; read back with pread
 *   preadv2_offset_minus2        offset -2 is EINVAL (only -1 is special)
 *   pwritev2_preadv2_high_offset explicit offset 0x1_8000_0007, write then
 *                                read, the file position does not move
 *   pwritev2_hipri               RWF_HIPRI: ignored for buffered I/O, succeeds
 *   preadv2_hipri                RWF_HIPRI read, succeeds, data compared
 *   preadv2_nowait               RWF_NOWAIT read of cached tmpfs data: data,
 *                                EAGAIN or EOPNOTSUPP are all accepted; the
 *                                outcome is recorded as
 *                                "# preadv2_nowait: outcome=..."
 *   preadv2_unknown_flag         flags 0x80000000: EOPNOTSUPP, nothing read
 *   preadv2_libc_offset_minus1   glibc preadv2(..., -1, 0) reads at the file
 *                                position and advances it
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

#include <linux/fs.h> /* RWF_* */

#include "probe.h"

#ifndef SYS_preadv2
#define SYS_preadv2 (sizeof(long) == 8 ? 327 : 378)
#endif
#ifndef SYS_pwritev2
#define SYS_pwritev2 (sizeof(long) == 8 ? 328 : 379)
#endif

static const char *const case_names[] = {
	"create_file", "preadv2_offset_minus1", "pwritev2_offset_minus1",
	"preadv2_offset_minus2", "pwritev2_preadv2_high_offset",
	"pwritev2_hipri", "preadv2_hipri", "preadv2_nowait",
	"preadv2_unknown_flag", "preadv2_libc_offset_minus1",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

#define FILE_LEN (64 * 1024)
/* Read/write split: the sum is LEN; a zero-length iovec included. */
static const size_t sizes[] = { 3, 4093, 0, 1000, 1, 2903 };
#define NIOV (sizeof(sizes) / sizeof(sizes[0]))
#define LEN 8000

static unsigned char content[FILE_LEN]; /* what the file holds */
static unsigned char buf[LEN + 1], src[LEN];

static void split_iov(struct iovec *iov, unsigned char *base)
{
	probe_split_iov(iov, base, sizes, NIOV);
}

static long raw_rw2(long nr, const char *what, int fd, const struct iovec *iov,
		    int cnt, int64_t pos, int flags, int *err)
{
	uint64_t u = (uint64_t)pos;
	unsigned long lo = (unsigned long)u;
	unsigned long hi = (unsigned long)((u >> (sizeof(long) * 4)) >> (sizeof(long) * 4));
	long ret;

	if (PROBE_X32) {
		/* x32's preadv2/pwritev2 take the offset whole, in one 64-bit register */
		ktap_diag("%s: syscall(%ld, fd=%d, iov, %d, pos=%lld, flags=0x%x) (x32: one register)",
			  what, nr, fd, cnt, (long long)pos, (unsigned)flags);
		errno = 0;
		ret = syscall(nr, fd, iov, cnt, (long long)pos, flags);
		*err = errno;
		ktap_diag_ret(what, ret, *err);
		return ret;
	}
	ktap_diag("%s: syscall(%ld, fd=%d, iov, %d, lo=0x%lx, hi=0x%lx, flags=0x%x) offset %lld",
		  what, nr, fd, cnt, lo, hi, (unsigned)flags, (long long)pos);
	errno = 0;
	ret = syscall(nr, fd, iov, cnt, lo, hi, flags);
	*err = errno;
	ktap_diag_ret(what, ret, *err);
	return ret;
}

/* Read into buf (canary after it) and compare with `want`. */
static int check_read(long ret, const unsigned char *want, const char *what)
{
	return probe_read_ok(what, ret, buf, want, LEN, "read past the last iovec");
}

static int check_pos(int fd, off_t want)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);

	ktap_diag("file position after: %lld (want %lld)", (long long)pos, (long long)want);
	return pos == want;
}

/* After writing src at `pos`, read it back with pread and compare. */
static int check_written(int fd, off_t pos, const char *what)
{
	static unsigned char back[LEN];
	ssize_t n = probe_pread_all(fd, back, LEN, pos);

	if (n != LEN) {
		ktap_diag("pread back at %lld: ret=%zd", (long long)pos, n);
		return 0;
	}
	return ktap_compare(what, back, src, LEN) < 0;
}

int main(void)
{
	struct iovec iov[NIOV];
	long ret;
	int fd, err, c, pass;
	off_t start;

	ktap_plan(NCASES);
	probe_fill(content, FILE_LEN, 0x2002);

	/* 1 */
	fd = probe_scratch_fd("preadv2_pwritev2", 0);
	if (fd < 0 || probe_pwrite_all(fd, content, FILE_LEN, 0) != FILE_LEN) {
		ktap_fail("create_file", "no scratch file with content");
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no scratch file");
		return ktap_exit();
	}
	ktap_ok("create_file", "%d bytes of pattern written", FILE_LEN);

	/* 2: offset -1 read: position 1000 -> 1000 + LEN */
	start = 1000;
	lseek(fd, start, SEEK_SET);
	ktap_diag("file position before: %lld", (long long)lseek(fd, 0, SEEK_CUR));
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	ret = raw_rw2(SYS_preadv2, "preadv2(-1, 0)", fd, iov, (int)NIOV, -1, 0, &err);
	if (ret < 0 && err == ENOSYS) {
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "preadv2: ENOSYS (kernel older than 4.6)");
		return ktap_exit();
	}
	pass = check_read(ret, content + start, "preadv2(-1) data");
	pass = check_pos(fd, start + (ret > 0 ? ret : 0)) && pass && ret == LEN;
	ktap_result(pass, "preadv2_offset_minus1", "expected ret=%d, position +%d", LEN, LEN);

	/* 3: offset -1 write: position 20000 -> 20000 + LEN */
	start = 20000;
	lseek(fd, start, SEEK_SET);
	ktap_diag("file position before: %lld", (long long)lseek(fd, 0, SEEK_CUR));
	probe_fill(src, LEN, 0x3003);
	memcpy(buf, src, LEN);
	split_iov(iov, buf);
	ret = raw_rw2(SYS_pwritev2, "pwritev2(-1, 0)", fd, iov, (int)NIOV, -1, 0, &err);
	pass = ret == LEN;
	if (!check_pos(fd, start + (ret > 0 ? ret : 0)))
		pass = 0;
	if (!check_written(fd, start, "pwritev2(-1) data at the old position"))
		pass = 0;
	if (ret == LEN)
		memcpy(content + start, src, LEN);
	ktap_result(pass, "pwritev2_offset_minus1", "expected ret=%d, position +%d", LEN, LEN);

	/* 4: offset -2 is an error, position unchanged */
	start = lseek(fd, 4096, SEEK_SET);
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	ret = raw_rw2(SYS_preadv2, "preadv2(-2, 0)", fd, iov, (int)NIOV, -2, 0, &err);
	pass = ret == -1 && err == EINVAL && buf[0] == PROBE_CANARY;
	if (!check_pos(fd, start))
		pass = 0;
	ktap_result(pass, "preadv2_offset_minus2", "expected ret=-1 errno=EINVAL");

	/* 5: explicit offset above 4 GiB (low word with bit 31 set) */
	{
		const int64_t pos = 0x180000007ll;
		struct stat st;

		start = lseek(fd, 777, SEEK_SET);
		probe_fill(src, LEN, 0x5005);
		memcpy(buf, src, LEN);
		split_iov(iov, buf);
		ret = raw_rw2(SYS_pwritev2, "pwritev2(high, 0)", fd, iov, (int)NIOV, pos, 0, &err);
		if (ret < 0 && (err == EFBIG || err == EOVERFLOW)) {
			ktap_skip("pwritev2_preadv2_high_offset", "offset 0x%llx: %s",
				  (unsigned long long)pos, ktap_errname(err));
		} else {
			pass = ret == LEN && check_written(fd, pos, "pwritev2 data at 0x180000007");
			if (fstat(fd, &st) == 0) {
				ktap_diag("file size 0x%llx (want 0x%llx)",
					  (unsigned long long)st.st_size,
					  (unsigned long long)(pos + LEN));
				if (st.st_size != pos + LEN)
					pass = 0;
			}
			memset(buf, PROBE_CANARY, sizeof(buf));
			split_iov(iov, buf);
			ret = raw_rw2(SYS_preadv2, "preadv2(high, 0)", fd, iov, (int)NIOV,
				      pos, 0, &err);
			if (!check_read(ret, src, "preadv2 data at 0x180000007"))
				pass = 0;
			if (!check_pos(fd, start))
				pass = 0;
			ktap_result(pass, "pwritev2_preadv2_high_offset",
				    "expected ret=%d both ways, position unchanged", LEN);
		}
	}

	/* 6: RWF_HIPRI write (buffered: the flag is ignored) */
	probe_fill(src, LEN, 0x6006);
	memcpy(buf, src, LEN);
	split_iov(iov, buf);
	ret = raw_rw2(SYS_pwritev2, "pwritev2(40000, RWF_HIPRI)", fd, iov, (int)NIOV,
		      40000, RWF_HIPRI, &err);
	pass = ret == LEN && check_written(fd, 40000, "pwritev2(RWF_HIPRI) data");
	if (ret == LEN)
		memcpy(content + 40000, src, LEN);
	ktap_result(pass, "pwritev2_hipri", "expected ret=%d", LEN);

	/* 7: RWF_HIPRI read */
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	ret = raw_rw2(SYS_preadv2, "preadv2(40000, RWF_HIPRI)", fd, iov, (int)NIOV,
		      40000, RWF_HIPRI, &err);
	ktap_result(check_read(ret, content + 40000, "preadv2(RWF_HIPRI) data"),
		    "preadv2_hipri", "expected ret=%d", LEN);

	/* 8: RWF_NOWAIT read: record the outcome, accept the documented ones */
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	ret = raw_rw2(SYS_preadv2, "preadv2(100, RWF_NOWAIT)", fd, iov, (int)NIOV,
		      100, RWF_NOWAIT, &err);
	if (ret >= 0) {
		/* A short read is allowed for NOWAIT; what came must be right. */
		pass = ret > 0;
		if (ret > 0 && ktap_compare("preadv2(RWF_NOWAIT) data", buf, content + 100,
					    (size_t)ret) >= 0)
			pass = 0;
		ktap_diag("preadv2_nowait: outcome=data ret=%ld", ret);
	} else {
		pass = err == EAGAIN || err == EOPNOTSUPP;
		ktap_diag("preadv2_nowait: outcome=%s ret=-1 errno=%d", ktap_errname(err), err);
	}
	ktap_result(pass, "preadv2_nowait", "accepted: data, EAGAIN, EOPNOTSUPP");

	/* 9: unknown flag bit: EOPNOTSUPP, nothing read, position unchanged */
	start = lseek(fd, 2222, SEEK_SET);
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	ret = raw_rw2(SYS_preadv2, "preadv2(-1, 0x80000000)", fd, iov, (int)NIOV,
		      -1, (int)0x80000000u, &err);
	pass = ret == -1 && err == EOPNOTSUPP && buf[0] == PROBE_CANARY;
	if (!check_pos(fd, start))
		pass = 0;
	ktap_result(pass, "preadv2_unknown_flag", "expected ret=-1 errno=EOPNOTSUPP");

	/* 10: glibc's wrapper with offset -1 */
	start = lseek(fd, 30000, SEEK_SET);
	memset(buf, PROBE_CANARY, sizeof(buf));
	split_iov(iov, buf);
	errno = 0;
	ret = preadv2(fd, iov, (int)NIOV, -1, 0);
	err = errno;
	ktap_diag("preadv2 libc(fd, iov, %zu, -1, 0)", (size_t)NIOV);
	ktap_diag_ret("preadv2 libc", ret, err);
	pass = check_read(ret, content + start, "preadv2 libc data");
	pass = check_pos(fd, start + (ret > 0 ? ret : 0)) && pass;
	ktap_result(pass, "preadv2_libc_offset_minus1", "expected ret=%d, position +%d",
		    LEN, LEN);

	close(fd);
	return ktap_exit();
}
