/*
 * readv_writev - vectored I/O on a tmpfs-backed file.
 *
 * Built for every ABI; in the i386 build the iovec arrays are the 32-bit
 * layout, so on a 64-bit kernel this exercises the compat iovec import path.
 *
 * Cases:
 *   create_file      memfd_create() (shmem) or, failing that, a file in /tmp
 *   writev           several iovecs, including zero-length ones, of odd sizes
 *   readv            read back into differently sized iovecs, byte compare
 *   readv_eof        readv at end of file returns 0
 *   pwritev_preadv   same at a file offset above 4 GiB: the 64-bit offset is
 *                    split into two registers by the 32-bit ABI
 *   iovcnt_zero      writev/readv with iovcnt 0 return 0 and move nothing
 *   uio_maxiov       UIO_MAXIOV (1024) iovecs of varying sizes, writev then
 *                    readv into a differently split set of 1024, byte compare
 *                    (far beyond the on-stack UIO_FASTIOV array)
 *   uio_maxiov_plus_one  1025 iovecs: writev and readv fail with EINVAL and
 *                    neither the file nor the buffers change
 *   bad_iov_base     an iovec whose iov_base is (void *)1: writev and readv
 *                    fail with EFAULT; an iovec array pointer of (void *)1:
 *                    EFAULT as well (the array itself cannot be copied in)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

#ifndef SYS_memfd_create
#define SYS_memfd_create (sizeof(long) == 8 ? 319 : 356)
#endif

static const char *const case_names[] = {
	"create_file", "writev", "readv", "readv_eof", "pwritev_preadv",
	"iovcnt_zero", "uio_maxiov", "uio_maxiov_plus_one", "bad_iov_base",
};

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

/* Sizes of the writev() vectors; zero-length entries are deliberate. */
static const size_t wsizes[] = { 1, 0, 4095, 4097, 13, 0, 8192, 511 };
/* Sizes of the readv() vectors: different boundaries, again with a 0. */
static const size_t rsizes[] = { 3, 5000, 0, 7, 8000, 1 /* +rest */ };
#define NW (sizeof(wsizes) / sizeof(wsizes[0]))
#define NR (sizeof(rsizes) / sizeof(rsizes[0]) + 1)

/* Deterministic, position-dependent pattern: a shifted or dropped byte shows. */
static void fill_pattern(unsigned char *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
}

/* Returns an fd for an empty file on tmpfs/shmem; describes it in `how`. */
static int open_scratch(char *how, size_t howlen)
{
	char path[] = "/tmp/kseries-rw-XXXXXX";
	int fd;

	fd = (int)syscall(SYS_memfd_create, "kseries-rw", 0u);
	if (fd >= 0) {
		snprintf(how, howlen, "memfd_create fd=%d", fd);
		return fd;
	}
	ktap_diag_ret("memfd_create", -1, errno);
	fd = mkstemp(path);
	if (fd >= 0) {
		unlink(path);
		snprintf(how, howlen, "mkstemp %s fd=%d", path, fd);
		return fd;
	}
	ktap_diag_ret("mkstemp /tmp", -1, errno);
	return -1;
}

/* Split `buf` into iovecs of the given sizes, the last one taking the rest. */
static void build_iov(struct iovec *iov, const size_t *sizes, size_t nsizes,
		     unsigned char *buf, size_t total)
{
	size_t off = probe_split_iov(iov, buf, sizes, nsizes);

	iov[nsizes].iov_base = buf + off;
	iov[nsizes].iov_len = total - off;
}

/* "# what: ret=.. [errno]" evidence for a call made with errno cleared. */
#define CALL(what, expr, retp, errp)                                   \
	do {                                                           \
		errno = 0;                                             \
		*(retp) = (expr);                                      \
		*(errp) = errno;                                       \
		ktap_diag_ret((what), (long)*(retp), *(errp));         \
	} while (0)

/* Size of the i-th iovec of the UIO_MAXIOV cases: 1..37 bytes, some zero. */
static size_t maxiov_size(size_t i, int variant)
{
	if ((i + (size_t)variant) % 97 == 0)
		return 0;
	return 1 + (i * 7 + (size_t)variant * 13) % 37;
}

/*
 * Cases 6-9: iovec count limits and bad pointers, on a fresh scratch file
 * so earlier cases cannot influence them.
 */
static void run_limits_cases(void)
{
	static struct iovec iov[UIO_MAXIOV + 1];
	/* volatile: keep the compiler from reasoning about the bad pointer */
	struct iovec *volatile bad_iov = (struct iovec *)1;
	unsigned char *src, *dst, *wbuf;
	size_t total = 0, rtotal = 0, i, off;
	ssize_t ret;
	struct stat st;
	int fd, err, pass;

	fd = probe_scratch_fd("limits", 0);
	if (fd < 0) {
		ktap_fail("iovcnt_zero", "no scratch file");
		ktap_fail("uio_maxiov", "no scratch file");
		ktap_fail("uio_maxiov_plus_one", "no scratch file");
		ktap_fail("bad_iov_base", "no scratch file");
		return;
	}

	/* 6: iovcnt 0 returns 0, writes nothing and leaves the position alone */
	{
		char byte = 0x11;

		iov[0].iov_base = &byte;
		iov[0].iov_len = 1;
		CALL("writev(iovcnt=0)", writev(fd, iov, 0), &ret, &err);
		pass = ret == 0;
		CALL("readv(iovcnt=0)", readv(fd, iov, 0), &ret, &err);
		pass = pass && ret == 0 && byte == 0x11;
		if (fstat(fd, &st) == 0) {
			ktap_diag("file size %lld, position %lld (want 0, 0)",
				  (long long)st.st_size, (long long)lseek(fd, 0, SEEK_CUR));
			if (st.st_size != 0 || lseek(fd, 0, SEEK_CUR) != 0)
				pass = 0;
		}
		ktap_result(pass, "iovcnt_zero", "expected ret=0 for both");
	}

	/* 7: UIO_MAXIOV iovecs, both directions, differently split */
	for (i = 0; i < UIO_MAXIOV; i++) {
		total += maxiov_size(i, 0);
		rtotal += maxiov_size(i, 1);
	}
	/* the read side must cover everything: grow its last iovec */
	if (rtotal < total)
		rtotal = total;
	src = malloc(total);
	wbuf = malloc(total);
	dst = malloc(rtotal + 1);
	if (!src || !wbuf || !dst) {
		ktap_fail("uio_maxiov", "malloc failed");
		ktap_fail("uio_maxiov_plus_one", "malloc failed");
		ktap_fail("bad_iov_base", "malloc failed");
		close(fd);
		return;
	}
	fill_pattern(src, total, 7);
	memcpy(wbuf, src, total);
	for (i = 0, off = 0; i < UIO_MAXIOV; i++) {
		iov[i].iov_base = wbuf + off;
		iov[i].iov_len = maxiov_size(i, 0);
		off += iov[i].iov_len;
	}
	ktap_diag("writev: %d iovecs (UIO_MAXIOV), %zu bytes", UIO_MAXIOV, total);
	CALL("writev(1024 iovecs)", writev(fd, iov, UIO_MAXIOV), &ret, &err);
	pass = ret == (ssize_t)total;
	memset(dst, PROBE_CANARY, rtotal + 1);
	for (i = 0, off = 0; i < UIO_MAXIOV; i++) {
		iov[i].iov_base = dst + off;
		iov[i].iov_len = maxiov_size(i, 1);
		off += iov[i].iov_len;
	}
	iov[UIO_MAXIOV - 1].iov_len += rtotal - off;
	lseek(fd, 0, SEEK_SET);
	CALL("readv(1024 iovecs)", readv(fd, iov, UIO_MAXIOV), &ret, &err);
	if (ret != (ssize_t)total)
		pass = 0;
	if (ret > 0 && ktap_compare("readv(1024 iovecs) data", dst, src,
				    (size_t)ret < total ? (size_t)ret : total) >= 0)
		pass = 0;
	if (!probe_canary_intact(&dst[rtotal], "readv wrote past the last iovec"))
		pass = 0;
	ktap_result(pass, "uio_maxiov", "expected ret=%zu both ways", total);

	/* 8: UIO_MAXIOV + 1 iovecs: EINVAL, nothing transferred */
	for (i = 0; i <= UIO_MAXIOV; i++) {
		iov[i].iov_base = wbuf;
		iov[i].iov_len = 1;
	}
	CALL("writev(1025 iovecs)", writev(fd, iov, UIO_MAXIOV + 1), &ret, &err);
	pass = ret == -1 && err == EINVAL;
	memset(dst, 0x5a, 16);
	for (i = 0; i <= UIO_MAXIOV; i++)
		iov[i].iov_base = dst;
	lseek(fd, 0, SEEK_SET);
	CALL("readv(1025 iovecs)", readv(fd, iov, UIO_MAXIOV + 1), &ret, &err);
	if (!(ret == -1 && err == EINVAL))
		pass = 0;
	if (dst[0] != 0x5a) {
		ktap_diag("readv changed the buffer (0x%02x)", dst[0]);
		pass = 0;
	}
	if (fstat(fd, &st) == 0 && st.st_size != (off_t)total) {
		ktap_diag("file size changed to %lld (want %zu)", (long long)st.st_size, total);
		pass = 0;
	}
	ktap_result(pass, "uio_maxiov_plus_one", "expected ret=-1 errno=EINVAL for both");

	/* 9: bad pointers: iov_base, then the iovec array itself */
	iov[0].iov_base = wbuf;
	iov[0].iov_len = 0;
	iov[1].iov_base = (void *)1;
	iov[1].iov_len = 16;
	lseek(fd, 0, SEEK_END);
	CALL("writev(iov[1].iov_base=(void*)1)", writev(fd, iov, 2), &ret, &err);
	pass = ret == -1 && err == EFAULT;
	lseek(fd, 0, SEEK_SET);
	CALL("readv(iov[1].iov_base=(void*)1)", readv(fd, iov, 2), &ret, &err);
	if (!(ret == -1 && err == EFAULT))
		pass = 0;
	CALL("readv(iov=(void*)1, iovcnt=2)", readv(fd, bad_iov, 2), &ret, &err);
	if (!(ret == -1 && err == EFAULT))
		pass = 0;
	CALL("writev(iov=(void*)1, iovcnt=2)", writev(fd, bad_iov, 2), &ret, &err);
	if (!(ret == -1 && err == EFAULT))
		pass = 0;
	if (fstat(fd, &st) == 0 && st.st_size != (off_t)total) {
		ktap_diag("file size changed to %lld (want %zu)", (long long)st.st_size, total);
		pass = 0;
	}
	ktap_result(pass, "bad_iov_base", "expected ret=-1 errno=EFAULT for all four");

	free(src);
	free(wbuf);
	free(dst);
	close(fd);
}

int main(void)
{
	struct iovec wiov[NW], riov[NR];
	unsigned char *src, *dst, *wbuf;
	size_t total = 0, i, off;
	char how[128];
	ssize_t ret;
	int fd, err, c;

	ktap_plan(NCASES);

	for (i = 0; i < NW; i++)
		total += wsizes[i];
	src = malloc(total);
	dst = malloc(total + 1);
	wbuf = malloc(total);
	if (!src || !dst || !wbuf) {
		ktap_diag("malloc(%zu) failed", total);
		return KSFT_FAIL;
	}
	fill_pattern(src, total, 1);

	/* 1: scratch file */
	fd = open_scratch(how, sizeof(how));
	if (fd < 0) {
		ktap_fail("create_file", "no scratch file could be created");
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no scratch file");
		return ktap_exit();
	}
	ktap_ok("create_file", "%s", how);

	/*
	 * 2: writev. The source is scattered into separate buffers laid out in
	 * order inside wbuf, so a mis-ordered or skipped iovec shows up as a
	 * content difference, not just a length mismatch.
	 */
	memcpy(wbuf, src, total);
	off = 0;
	for (i = 0; i < NW; i++) {
		wiov[i].iov_base = wbuf + off;
		wiov[i].iov_len = wsizes[i];
		off += wsizes[i];
	}
	ktap_diag("writev: %zu iovecs, %zu bytes total (two zero-length)",
		  (size_t)NW, total);
	errno = 0;
	ret = writev(fd, wiov, (int)NW);
	err = errno;
	ktap_diag_ret("writev", (long)ret, err);
	ktap_result(ret == (ssize_t)total, "writev", "expected ret=%zu", total);

	/* 3: readv back into a differently split set of iovecs */
	memset(dst, PROBE_CANARY, total + 1); /* canary byte after the end */
	if (lseek(fd, 0, SEEK_SET) != 0)
		ktap_diag_ret("lseek", -1, errno);
	build_iov(riov, rsizes, NR - 1, dst, total);
	errno = 0;
	ret = readv(fd, riov, (int)NR);
	err = errno;
	ktap_diag_ret("readv", (long)ret, err);
	ktap_result(probe_read_ok("readv data", (long)ret, dst, src, total,
				  "readv wrote past the last iovec"),
		    "readv", "expected ret=%zu", total);

	/* 4: at EOF readv must return 0 and leave the buffers alone */
	memset(dst, 0x5a, total);
	errno = 0;
	ret = readv(fd, riov, (int)NR);
	err = errno;
	ktap_diag_ret("readv at EOF", (long)ret, err);
	ktap_result(ret == 0 && dst[0] == 0x5a, "readv_eof", "expected ret=0");

	/* 5: positional variants above 4 GiB (high offset word in compat) */
	{
		const off_t pos = ((off_t)1 << 32) + 17;
		int pass;

		errno = 0;
		ret = pwritev(fd, wiov, (int)NW, pos);
		err = errno;
		ktap_diag_ret("pwritev at 4GiB+17", (long)ret, err);
		if (ret < 0 && (err == EFBIG || err == ENOSYS)) {
			ktap_skip("pwritev_preadv", "pwritev at 4GiB+17: %s",
				  ktap_errname(err));
		} else {
			pass = ret == (ssize_t)total;
			memset(dst, PROBE_CANARY, total + 1);
			errno = 0;
			ret = preadv(fd, riov, (int)NR, pos);
			err = errno;
			ktap_diag_ret("preadv at 4GiB+17", (long)ret, err);
			if (ret != (ssize_t)total)
				pass = 0;
			if (ret > 0 &&
			    ktap_compare("preadv data", dst, src, (size_t)ret) >= 0)
				pass = 0;
			/* The file position must not have moved (still at EOF of part 1). */
			off = (size_t)lseek(fd, 0, SEEK_CUR);
			if (off != total) {
				ktap_diag("file position moved to %zu, expected %zu",
					  off, total);
				pass = 0;
			}
			ktap_result(pass, "pwritev_preadv", "expected ret=%zu", total);
		}
	}

	close(fd);
	free(src);
	free(dst);
	free(wbuf);

	run_limits_cases();
	return ktap_exit();
}
