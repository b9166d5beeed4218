/*
 * keyctl_iov - keyctl(KEYCTL_INSTANTIATE_IOV, key, iov, ioc, ringid): the
 * iovec array is imported before any permission check, so the error a
 * caller WITHOUT instantiation authority gets tells how the kernel parsed
 * the array (in the compat layout for the i386 build).
 *
 * What the kernel does, from security/keys/keyctl.c (v5.9 and mainline
 * alike; v5.9's compat_keyctl_instantiate_key_iov in security/keys/compat.c
 * has the same order with compat_import_iovec):
 *
 *     keyctl_instantiate_key_iov():
 *         if (!_payload_iov) ioc = 0;
 *         import_iovec(WRITE, _payload_iov, ioc, ...)  -> EFAULT / EINVAL
 *         keyctl_instantiate_key_common(id, &from, ringid):
 *             plen = iov_iter_count(from)
 *             if (plen > 1024 * 1024 - 1)        -> EINVAL
 *             if (!cred->request_key_auth)       -> EPERM
 *             (only then: copy the payload, look up the key and keyring)
 *
 * So the array is parsed BEFORE authority is checked: a valid array gives
 * EPERM, an unreadable array EFAULT, more than UIO_MAXIOV entries EINVAL,
 * and the summed lengths decide between EINVAL (>= 1 MiB) and EPERM
 * (< 1 MiB). The length boundary is the sharpest check that each iov_len was
 * read from the right place: 2 iovecs summing to exactly 1 MiB - 1 must pass
 * the size check, one byte more must not. The key id (12345) and keyring
 * (0) are never looked at; the payload is never copied.
 *
 * Cases:
 *   valid_iov_eperm         3 valid iovecs, 100 bytes        -> EPERM
 *   bad_iov_array_efault    array pointer (void *)1, ioc=2   -> EFAULT
 *                           (EPERM here would mean authority is checked
 *                           before the array is read)
 *   len_max_minus_one_eperm 2 iovecs, 1 MiB - 1 in total     -> EPERM
 *   len_max_einval          2 iovecs, 1 MiB in total         -> EINVAL
 *   too_many_iovecs_einval  ioc = UIO_MAXIOV + 1             -> EINVAL
 *   null_iov_eperm          iov NULL, ioc 5 (ioc ignored)    -> EPERM
 *   negative_len_einval     iov_len with the top bit set (negative as the
 *                           ABI's ssize_t)                   -> EINVAL
 *
 * Everything is skipped if keyctl is ENOSYS (CONFIG_KEYS=n).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/keyctl.h>

#include "probe.h"

#ifndef KEYCTL_INSTANTIATE_IOV
#define KEYCTL_INSTANTIATE_IOV 20
#endif
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

#define KEY_ID 12345
#define MIB (1024 * 1024)

static const char *const case_names[] = {
	"valid_iov_eperm", "bad_iov_array_efault", "len_max_minus_one_eperm",
	"len_max_einval", "too_many_iovecs_einval", "null_iov_eperm",
	"negative_len_einval",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

static long instantiate_iov(const char *what, const struct iovec *iov, unsigned ioc,
			    int *err)
{
	long ret;

	ktap_diag("%s: keyctl(KEYCTL_INSTANTIATE_IOV, %d, iov=%p, ioc=%u, ringid=0)",
		  what, KEY_ID, (const void *)iov, ioc);
	errno = 0;
	ret = syscall(SYS_keyctl, KEYCTL_INSTANTIATE_IOV, (long)KEY_ID, iov,
		      (unsigned long)ioc, 0L);
	*err = errno;
	ktap_diag_ret(what, ret, *err);
	return ret;
}

static void expect(const char *name, const struct iovec *iov, unsigned ioc, int want)
{
	int err;
	long ret = instantiate_iov(name, iov, ioc, &err);

	ktap_result(ret == -1 && err == want, name, "expected ret=-1 with %s", ktap_errname(want));
}

int main(void)
{
	static struct iovec many[UIO_MAXIOV + 1];
	static char small[100];
	struct iovec *volatile bad = (struct iovec *)1;
	struct iovec iov[3];
	unsigned char *big;
	long ret;
	int err, c, i;

	ktap_plan(NCASES);
	ktap_diag("uid %u euid %u", (unsigned)getuid(), (unsigned)geteuid());

	/* 1: valid array; also the ENOSYS probe */
	iov[0].iov_base = small;
	iov[0].iov_len = 10;
	iov[1].iov_base = small + 10;
	iov[1].iov_len = 0;
	iov[2].iov_base = small + 10;
	iov[2].iov_len = 90;
	ret = instantiate_iov("valid_iov_eperm", iov, 3, &err);
	if (ret < 0 && err == ENOSYS) {
		for (c = 0; c < NCASES; c++)
			ktap_skip(case_names[c], "keyctl: ENOSYS (no CONFIG_KEYS)");
		return ktap_exit();
	}
	ktap_result(ret == -1 && err == EPERM, "valid_iov_eperm",
		    "expected ret=-1 with EPERM (array parsed, then no authority)");

	/* 2: unreadable array: EFAULT proves the array is read first */
	ret = instantiate_iov("bad_iov_array_efault", bad, 2, &err);
	if (ret == -1 && err == EPERM)
		ktap_diag("EPERM: authority was checked before the iovec array was read");
	ktap_result(ret == -1 && err == EFAULT, "bad_iov_array_efault",
		    "expected ret=-1 with EFAULT (import_iovec runs before the authority check)");

	/* 3, 4: the 1 MiB - 1 payload limit, summed over two iovecs */
	big = malloc(MIB);
	if (!big) {
		ktap_fail("len_max_minus_one_eperm", "malloc(1 MiB) failed");
		ktap_fail("len_max_einval", "malloc(1 MiB) failed");
	} else {
		iov[0].iov_base = big;
		iov[0].iov_len = MIB / 2;
		iov[1].iov_base = big + MIB / 2;
		iov[1].iov_len = MIB / 2 - 1;
		expect("len_max_minus_one_eperm", iov, 2, EPERM);
		iov[1].iov_len = MIB / 2;
		expect("len_max_einval", iov, 2, EINVAL);
		free(big);
	}

	/* 5 */
	for (i = 0; i <= UIO_MAXIOV; i++) {
		many[i].iov_base = small;
		many[i].iov_len = 1;
	}
	expect("too_many_iovecs_einval", many, UIO_MAXIOV + 1, EINVAL);

	/* 6: NULL array: ioc is ignored, no payload, then no authority */
	expect("null_iov_eperm", NULL, 5, EPERM);

	/* 7: iov_len negative as the ABI's ssize_t (0x80000000 on i386) */
	iov[0].iov_base = small;
	iov[0].iov_len = (size_t)1 << (sizeof(size_t) * 8 - 1);
	ktap_diag("negative_len_einval: iov_len=0x%zx", iov[0].iov_len);
	expect("negative_len_einval", iov, 1, EINVAL);

	return ktap_exit();
}
