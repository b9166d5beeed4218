/*
 * probe.h - header-only helpers shared by the kseries guest probes: clocks
 * and bounded waits, child reaping, test patterns, scratch files and whole
 * buffer I/O. KTAP output itself lives in ktap.h (included from here), so a
 * probe needs only this header.
 */
#ifndef KSERIES_PROBE_H
#define KSERIES_PROBE_H

#include "ktap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_memfd_create
#define SYS_memfd_create (sizeof(long) == 8 ? 319 : 356)
#endif

/*
 * The ABI this binary was built for, as the directory the harness installs it
 * under (/kseries/bin/<dir>/). x32 is x86_64 code with 32-bit longs and
 * pointers (-mx32): its syscalls are x86_64 entries with the x32 bit set, and
 * the kernel treats it as compat (in_compat_syscall() is true), so its iovec,
 * msghdr and aio layouts are the 32-bit ones, but a 64-bit argument such as a
 * file offset travels in one register.
 */
#if defined(__x86_64__) && defined(__ILP32__)
#define PROBE_X32 1
#define PROBE_ABI_DIR "x32"
#elif defined(__x86_64__)
#define PROBE_X32 0
#define PROBE_ABI_DIR "x86_64"
#else
#define PROBE_X32 0
#define PROBE_ABI_DIR "i386"
#endif

/* CLOCK_MONOTONIC in milliseconds: the only clock a probe bounds waits by. */
static inline int64_t probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nanosleep() for `ms` milliseconds (needs no timer signal). */
static inline void probe_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Reap a forked child within `ms`, SIGKILLing it if it is still running, so a
 * probe never hangs on a stuck child. Returns the wait status, or -1.
 */
static inline int probe_reap_child(pid_t pid, int ms)
{
	int64_t deadline = probe_now_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (probe_now_ms() >= deadline)
			break;
		probe_sleep_ms(5);
	}
	ktap_diag("child %d still running after %d ms: SIGKILL", (int)pid, ms);
	kill(pid, SIGKILL);
	deadline = probe_now_ms() + 2000;
	while (probe_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		probe_sleep_ms(5);
	}
	return -1;
}

/*
 * Deterministic, position-dependent byte pattern: a shifted, dropped or
 * duplicated byte changes the comparison. Different seeds give different
 * streams, so data written by one step cannot pass for another's.
 */
static inline void probe_fill(void *buf, size_t len, uint32_t seed)
{
	unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(x >> 8);
	}
}

/*
 * An empty scratch file on tmpfs: a file in /tmp (unlinked at once) or, if
 * that fails or `prefer_memfd` is set, a memfd (shmem, always large-file).
 * Prints one "# <tag>: ..." diagnostic saying which; returns the fd or -1.
 */
static inline int probe_scratch_fd(const char *tag, int prefer_memfd)
{
	char path[] = "/tmp/kseries-XXXXXX";
	int fd = -1, pass;

	for (pass = 0; pass < 2; pass++) {
		if ((pass == 0) == (prefer_memfd != 0)) {
			fd = (int)syscall(SYS_memfd_create, tag, 0u);
			if (fd >= 0) {
				ktap_diag("%s: scratch file memfd fd=%d", tag, fd);
				return fd;
			}
			ktap_diag("%s: memfd_create: errno=%d %s", tag, errno,
				  ktap_errname(errno));
		} else {
			fd = mkostemp(path, O_CLOEXEC);
			if (fd >= 0) {
				unlink(path);
				ktap_diag("%s: scratch file %s fd=%d", tag, path, fd);
				return fd;
			}
			ktap_diag("%s: mkstemp /tmp: errno=%d %s", tag, errno,
				  ktap_errname(errno));
		}
	}
	return -1;
}

/*
 * pwrite() (`writing`) or pread() the whole buffer at `off`, retrying on EINTR
 * and short transfers; returns bytes done (less at end of file) or -1 (errno set).
 */
static inline ssize_t probe_pio_all(int fd, void *buf, size_t len, off_t off, int writing)
{
	size_t done = 0;

	while (done < len) {
		char *p = (char *)buf + done;
		ssize_t n = writing ? pwrite(fd, p, len - done, off + (off_t)done)
				    : pread(fd, p, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static inline ssize_t probe_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return probe_pio_all(fd, (void *)buf, len, off, 1);
}

static inline ssize_t probe_pread_all(int fd, void *buf, size_t len, off_t off)
{
	return probe_pio_all(fd, buf, len, off, 0);
}

/*
 * Point iov[0..n-1] at consecutive pieces of `base`, sizes[i] bytes each.
 * Returns the total length.
 */
static inline size_t probe_split_iov(struct iovec *iov, void *base,
				     const size_t *sizes, size_t n)
{
	size_t i, off = 0;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = (unsigned char *)base + off;
		iov[i].iov_len = sizes[i];
		off += sizes[i];
	}
	return off;
}

/* The byte a destination buffer is filled with; the one past its end is the canary. */
#define PROBE_CANARY 0xa5

/*
 * Is the canary byte at `p` (just past what a read may fill) still intact?
 * If not, print "# <what> (canary 0x..)" and return 0.
 */
static inline int probe_canary_intact(const unsigned char *p, const char *what)
{
	if (*p == PROBE_CANARY)
		return 1;
	ktap_diag("%s (canary 0x%02x)", what, *p);
	return 0;
}

/*
 * Judge a read that returned `ret` into `got`, which should hold the `len`
 * bytes of `want` with the canary at got[len] untouched. Prints the byte
 * comparison and, if it was overwritten, "# <canary_what> (canary 0x..)".
 * Returns 1 if ret == len, the bytes match and the canary is intact.
 */
static inline int probe_read_ok(const char *what, long ret, const void *got,
				const void *want, size_t len, const char *canary_what)
{
	int pass = ret == (long)len;

	if (ret > 0 && ktap_compare(what, got, want, (size_t)ret) >= 0)
		pass = 0;
	if (!probe_canary_intact((const unsigned char *)got + len, canary_what))
		pass = 0;
	return pass;
}

#endif /* KSERIES_PROBE_H */
