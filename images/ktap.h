/*
 * ktap.h - header-only KTAP v1 reporting shared by every kseries guest probe
 * (plan, results, diagnostics, evidence, exit status). The non-KTAP probe
 * utilities are in probe.h.
 *
 * A probe prints one complete KTAP v1 document on stdout:
 *
 *     KTAP version 1
 *     1..3
 *     # writev: ret=8192
 *     ok 1 writev
 *     # readv: ret=-1 errno=14 EFAULT (Bad address)
 *     not ok 2 readv
 *     ok 3 preadv # SKIP no such syscall
 *
 * Diagnostic ("# ...") lines carrying the evidence (return value, errno,
 * bytes compared, first differing offset) are printed BEFORE the result line
 * they belong to; the host parser attaches them to the following test point.
 *
 * Every line is formatted into a local buffer and emitted with a single
 * write(2) on fd 1, bypassing stdio buffering: if the probe crashes or the
 * kernel dies half-way, everything printed so far has already reached the
 * init's pipe (and from there the serial console).
 *
 * Usage:
 *     ktap_plan(3);
 *     ...
 *     ktap_result(ok, "writev", "ret=%zd", ret);
 *     ...
 *     return ktap_exit();
 *
 * Exit status (kselftest convention, interpreted by the init):
 *     0 = every case passed (skips allowed), 1 = something failed or the plan
 *     was not honoured, 4 (KSFT_SKIP) = every case was skipped.
 */
#ifndef KSERIES_KTAP_H
#define KSERIES_KTAP_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

#define KTAP_LINE_MAX 1024

#define KTAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static struct {
	int planned; /* -1 until ktap_plan() */
	int run;
	int passed;
	int failed;
	int skipped;
} ktap_state = { -1, 0, 0, 0, 0 };

/* write(2) the whole buffer, retrying on EINTR and short writes. */
static inline void ktap_write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere left to report to */
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Format `fmt` and print it with `prefix` in front of every line (a message
 * containing '\n' becomes several prefixed lines). One write(2) per line.
 * The caller's errno is preserved so evidence can be printed before it is
 * inspected again.
 */
static inline void ktap_vprint(const char *prefix, const char *fmt, va_list ap)
{
	char text[KTAP_LINE_MAX * 4];
	char line[KTAP_LINE_MAX + 64];
	int saved_errno = errno;
	const char *p;

	vsnprintf(text, sizeof(text), fmt, ap);
	p = text;
	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int len;

		if (n > KTAP_LINE_MAX)
			n = KTAP_LINE_MAX;
		len = snprintf(line, sizeof(line), "%s%.*s\n", prefix, (int)n, p);
		if (len > (int)sizeof(line) - 1)
			len = (int)sizeof(line) - 1;
		ktap_write_all(line, (size_t)len);
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
	errno = saved_errno;
}

static inline KTAP_PRINTF(1, 2) void ktap_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vprint("", fmt, ap);
	va_end(ap);
}

/* "# ..." diagnostic line(s). */
static inline KTAP_PRINTF(1, 2) void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vprint("# ", fmt, ap);
	va_end(ap);
}

/* Print the document header and the plan. Call exactly once, first. */
static inline void ktap_plan(int n)
{
	/* Belt and braces: also make stdio unbuffered in case a probe uses it. */
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	ktap_state.planned = n;
	ktap_print("KTAP version 1");
	ktap_print("1..%d", n);
}

/* Symbolic name of an errno value ("EBADF"), or "E?" if not in the table. */
static inline const char *ktap_errname(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
#define KTAP_E(e) { e, #e }
		KTAP_E(EPERM), KTAP_E(ENOENT), KTAP_E(ESRCH), KTAP_E(EINTR),
		KTAP_E(EIO), KTAP_E(ENXIO), KTAP_E(E2BIG), KTAP_E(ENOEXEC),
		KTAP_E(EBADF), KTAP_E(ECHILD), KTAP_E(EAGAIN), KTAP_E(ENOMEM),
		KTAP_E(EACCES), KTAP_E(EFAULT), KTAP_E(EBUSY), KTAP_E(EEXIST),
		KTAP_E(EXDEV), KTAP_E(ENODEV), KTAP_E(ENOTDIR), KTAP_E(EISDIR),
		KTAP_E(EINVAL), KTAP_E(ENFILE), KTAP_E(EMFILE), KTAP_E(ENOTTY),
		KTAP_E(EFBIG), KTAP_E(ENOSPC), KTAP_E(ESPIPE), KTAP_E(EROFS),
		KTAP_E(EPIPE), KTAP_E(ERANGE), KTAP_E(ENAMETOOLONG),
		KTAP_E(ENOSYS), KTAP_E(ELOOP), KTAP_E(EOVERFLOW),
		KTAP_E(EBADFD), KTAP_E(EMSGSIZE), KTAP_E(EOPNOTSUPP),
		KTAP_E(ENOBUFS), KTAP_E(ETIMEDOUT), KTAP_E(ETIME),
		KTAP_E(ECANCELED), KTAP_E(EOWNERDEAD), KTAP_E(EDQUOT),
		KTAP_E(ENOTSUP), KTAP_E(ENOKEY), KTAP_E(EKEYEXPIRED),
		KTAP_E(EKEYREVOKED), KTAP_E(EKEYREJECTED), KTAP_E(ENOTCONN),
		KTAP_E(ENOTSOCK), KTAP_E(ECONNRESET), KTAP_E(ECONNREFUSED),
		KTAP_E(EINPROGRESS), KTAP_E(EALREADY), KTAP_E(EBADMSG),
		KTAP_E(ENOMSG), KTAP_E(EPROTONOSUPPORT), KTAP_E(EAFNOSUPPORT),
#undef KTAP_E
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

/*
 * Evidence for a syscall-style return value:
 *   "# what: ret=8192"  or  "# what: ret=-1 errno=9 EBADF (Bad file descriptor)"
 * `err` is only reported when ret < 0. Pass errno captured right after the
 * call; for raw io_uring results (cqe->res = -errno) pass ret=-1, err=-res.
 */
static inline void ktap_diag_ret(const char *what, long ret, int err)
{
	if (ret < 0)
		ktap_diag("%s: ret=%ld errno=%d %s (%s)", what, ret, err,
			  ktap_errname(err), strerror(err));
	else
		ktap_diag("%s: ret=%ld", what, ret);
}

/*
 * Report one test point. `fmt` (may be NULL) is an optional diagnostic line
 * printed before the result line.
 */
static inline KTAP_PRINTF(3, 0) void ktap_vresult(int pass, const char *name,
						  const char *fmt, va_list ap)
{
	if (fmt && *fmt)
		ktap_vprint("# ", fmt, ap);
	ktap_state.run++;
	if (pass)
		ktap_state.passed++;
	else
		ktap_state.failed++;
	ktap_print("%s %d %s", pass ? "ok" : "not ok", ktap_state.run, name);
}

static inline KTAP_PRINTF(3, 4) void ktap_result(int pass, const char *name,
						 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vresult(pass, name, fmt, ap);
	va_end(ap);
}

static inline KTAP_PRINTF(2, 3) void ktap_ok(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vresult(1, name, fmt, ap);
	va_end(ap);
}

static inline KTAP_PRINTF(2, 3) void ktap_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktap_vresult(0, name, fmt, ap);
	va_end(ap);
}

/* "ok N name # SKIP reason" */
static inline KTAP_PRINTF(2, 3) void ktap_skip(const char *name, const char *fmt, ...)
{
	char reason[KTAP_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ktap_state.run++;
	ktap_state.skipped++;
	ktap_print("ok %d %s # SKIP %s", ktap_state.run, name, reason);
}

/*
 * Compare `len` bytes of `got` against `want`; print
 *   "# what: compared N bytes, identical"   or
 *   "# what: compared N bytes, first difference at offset X (got 0x.., want 0x..), D bytes differ"
 * Returns -1 if identical, else the first differing offset.
 */
static inline long ktap_compare(const char *what, const void *got,
				const void *want, size_t len)
{
	const unsigned char *g = got, *w = want;
	size_t i, first = 0, ndiff = 0;

	for (i = 0; i < len; i++) {
		if (g[i] != w[i]) {
			if (ndiff == 0)
				first = i;
			ndiff++;
		}
	}
	if (ndiff == 0) {
		ktap_diag("%s: compared %zu bytes, identical", what, len);
		return -1;
	}
	ktap_diag("%s: compared %zu bytes, first difference at offset %zu "
		  "(got 0x%02x, want 0x%02x), %zu bytes differ",
		  what, len, first, g[first], w[first], ndiff);
	return (long)first;
}

/* Finish the document; the return value is the probe's exit status. */
static inline int ktap_exit(void)
{
	if (ktap_state.planned >= 0 && ktap_state.run != ktap_state.planned) {
		ktap_diag("ktap: planned %d cases but ran %d",
			  ktap_state.planned, ktap_state.run);
		return KSFT_FAIL;
	}
	ktap_diag("ktap: %d passed, %d failed, %d skipped", ktap_state.passed,
		  ktap_state.failed, ktap_state.skipped);
	if (ktap_state.failed)
		return KSFT_FAIL;
	if (ktap_state.run > 0 && ktap_state.skipped == ktap_state.run)
		return KSFT_SKIP;
	return KSFT_PASS;
}

#endif /* KSERIES_KTAP_H */
