/*
 * sendmsg_recvmsg - scatter/gather socket I/O over AF_UNIX socketpairs.
 *
 * msghdr and mmsghdr carry the iovec array (compat layouts in the i386
 * build: 28-byte msghdr, 8-byte iovecs); the kernel imports it with
 * import_iovec (or its compat twin before the series). Every transfer is
 * sent with one split and received with another, compared byte for byte.
 * The sockets are non-blocking and every wait is a poll() with a deadline.
 *
 * Cases:
 *   socketpairs             AF_UNIX SOCK_STREAM and SOCK_DGRAM pairs
 *   stream_sendmsg_recvmsg  6 iovecs (two zero-length), 20000 bytes; recvmsg
 *                           into 4 differently sized iovecs until all came
 *   dgram_sendmsg_recvmsg   one 6000-byte datagram from 4 iovecs, received
 *                           into 3 iovecs with room to spare: ret 6000, no
 *                           MSG_TRUNC
 *   dgram_truncated         6000-byte datagram into 4000 bytes of iovecs:
 *                           ret 4000, MSG_TRUNC in msg_flags, the prefix
 *                           intact, the rest discarded
 *   sendmsg_too_many_iovecs msg_iovlen = UIO_MAXIOV + 1 -> EMSGSIZE
 *   sendmsg_bad_iov         msg_iov = (void *)1 -> EFAULT
 *   sendmmsg_recvmmsg       3 datagrams of 2-3 iovecs each in one sendmmsg,
 *                           recvmmsg into 3 differently split messages;
 *                           per-message msg_len and bytes compared
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static const char *const case_names[] = {
	"socketpairs", "stream_sendmsg_recvmsg", "dgram_sendmsg_recvmsg",
	"dgram_truncated", "sendmsg_too_many_iovecs", "sendmsg_bad_iov",
	"sendmmsg_recvmmsg",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

#define MAXLEN 20000
static unsigned char src[MAXLEN], dst[MAXLEN + 64];

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) > 0;
}

static long do_sendmsg(const char *what, int fd, struct iovec *iov, size_t n, int *err)
{
	struct msghdr msg;
	long ret;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = n;
	errno = 0;
	ret = sendmsg(fd, &msg, MSG_DONTWAIT);
	*err = errno;
	ktap_diag_ret(what, ret, *err);
	return ret;
}

static int stream_case(int sv[2])
{
	static const size_t ws[] = { 1, 0, 9999, 4000, 0, 6000 };
	static const size_t rs[] = { 7000, 3, 0, 13000 };
	struct iovec wiov[6], riov[4];
	size_t total = probe_split_iov(wiov, src, ws, 6), got = 0;
	int64_t deadline;
	long ret;
	int err, pass, calls = 0;

	ret = do_sendmsg("sendmsg(stream, 6 iovecs, 20000 bytes)", sv[0], wiov, 6, &err);
	pass = ret == (long)total;
	memset(dst, PROBE_CANARY, sizeof(dst));
	deadline = probe_now_ms() + 3000;
	while (got < total && probe_now_ms() < deadline) {
		struct msghdr msg;
		size_t i, skip = got;
		struct iovec cur[4];
		int n = 0;

		/* the remaining part of the receive split */
		probe_split_iov(riov, dst, rs, 4);
		for (i = 0; i < 4; i++) {
			if (skip >= riov[i].iov_len) {
				skip -= riov[i].iov_len;
				continue;
			}
			cur[n].iov_base = (char *)riov[i].iov_base + skip;
			cur[n].iov_len = riov[i].iov_len - skip;
			skip = 0;
			n++;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = cur;
		msg.msg_iovlen = (size_t)n;
		errno = 0;
		ret = recvmsg(sv[1], &msg, MSG_DONTWAIT);
		if (ret < 0 && errno == EAGAIN) {
			wait_readable(sv[1], 10);
			continue;
		}
		calls++;
		if (ret <= 0) {
			ktap_diag_ret("recvmsg(stream)", ret, errno);
			break;
		}
		got += (size_t)ret;
	}
	ktap_diag("recvmsg(stream, 4 iovecs): %zu bytes in %d call(s)", got, calls);
	if (!probe_read_ok("stream data", (long)got, dst, src, total, "data past the last iovec"))
		pass = 0;
	return pass;
}

/* Receive one datagram into iovecs of `rs`; report ret, msg_flags. */
static long recv_dgram(int fd, const size_t *rs, size_t n, int *flags, int *err)
{
	struct iovec riov[8];
	struct msghdr msg;
	long ret;

	probe_split_iov(riov, dst, rs, n);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = riov;
	msg.msg_iovlen = n;
	wait_readable(fd, 2000);
	errno = 0;
	ret = recvmsg(fd, &msg, MSG_DONTWAIT);
	*err = errno;
	*flags = msg.msg_flags;
	ktap_diag_ret("recvmsg(dgram)", ret, *err);
	ktap_diag("msg_flags=0x%x (MSG_TRUNC=0x%x)", (unsigned)msg.msg_flags, MSG_TRUNC);
	return ret;
}

static int mmsg_case(int fd_tx, int fd_rx)
{
	/* per message: send split, receive split (last receive entry has slack) */
	static const size_t s0[] = { 100, 0, 900 }, r0[] = { 999, 1, 50 };
	static const size_t s1[] = { 2048, 2048 }, r1[] = { 1, 4095, 10 };
	static const size_t s2[] = { 1, 1, 1 }, r2[] = { 2, 0, 10 };
	static const size_t *const ss[3] = { s0, s1, s2 }, *const rr[3] = { r0, r1, r2 };
	static const size_t ns[3] = { 3, 2, 3 }, nr[3] = { 3, 3, 3 };
	struct iovec siov[3][3], riov[3][3];
	struct mmsghdr tx[3], rx[3];
	size_t off = 0, roff = 0, len[3], m;
	int ret, err, pass = 1;

	memset(tx, 0, sizeof(tx));
	memset(rx, 0, sizeof(rx));
	memset(dst, PROBE_CANARY, sizeof(dst));
	for (m = 0; m < 3; m++) {
		len[m] = probe_split_iov(siov[m], src + off, ss[m], ns[m]);
		off += len[m];
		tx[m].msg_hdr.msg_iov = siov[m];
		tx[m].msg_hdr.msg_iovlen = ns[m];
		roff += probe_split_iov(riov[m], dst + roff, rr[m], nr[m]);
		rx[m].msg_hdr.msg_iov = riov[m];
		rx[m].msg_hdr.msg_iovlen = nr[m];
	}
	errno = 0;
	ret = sendmmsg(fd_tx, tx, 3, MSG_DONTWAIT);
	err = errno;
	ktap_diag_ret("sendmmsg(3 messages)", ret, err);
	if (ret < 0 && err == ENOSYS)
		return -1;
	if (ret != 3)
		pass = 0;
	wait_readable(fd_rx, 2000);
	errno = 0;
	ret = recvmmsg(fd_rx, rx, 3, MSG_DONTWAIT, NULL);
	err = errno;
	ktap_diag_ret("recvmmsg(3 messages)", ret, err);
	if (ret != 3)
		pass = 0;
	for (m = 0, off = 0, roff = 0; m < 3 && (int)m < (ret > 0 ? ret : 0); m++) {
		char what[64];

		ktap_diag("message %zu: msg_len=%u (want %zu) msg_flags=0x%x", m,
			  rx[m].msg_len, len[m], (unsigned)rx[m].msg_hdr.msg_flags);
		if (rx[m].msg_len != len[m] || rx[m].msg_hdr.msg_flags != 0)
			pass = 0;
		snprintf(what, sizeof(what), "message %zu data", m);
		if (ktap_compare(what, dst + roff, src + off, len[m]) >= 0)
			pass = 0;
		off += len[m];
		roff += riov[m][0].iov_len + riov[m][1].iov_len + riov[m][2].iov_len;
	}
	return pass;
}

int main(void)
{
	static struct iovec many[UIO_MAXIOV + 1];
	int st[2], dg[2], c, err, flags, pass;
	long ret;

	ktap_plan(NCASES);
	probe_fill(src, MAXLEN, 0x5e4d);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, st) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, dg) < 0) {
		ktap_fail("socketpairs", "socketpair: errno=%d %s", errno, ktap_errname(errno));
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no socketpair");
		return ktap_exit();
	}
	ktap_ok("socketpairs", "stream %d,%d dgram %d,%d", st[0], st[1], dg[0], dg[1]);

	/* 2 */
	ktap_result(stream_case(st), "stream_sendmsg_recvmsg", "expected 20000 bytes");

	/* 3: one datagram, received with room to spare */
	{
		static const size_t ws[] = { 1000, 0, 3000, 2000 };
		static const size_t rs[] = { 2000, 1, 4050 };
		struct iovec wiov[4];

		probe_split_iov(wiov, src, ws, 4);
		ret = do_sendmsg("sendmsg(dgram, 4 iovecs, 6000 bytes)", dg[0], wiov, 4, &err);
		pass = ret == 6000;
		memset(dst, PROBE_CANARY, sizeof(dst));
		ret = recv_dgram(dg[1], rs, 3, &flags, &err);
		if (ret != 6000 || (flags & MSG_TRUNC))
			pass = 0;
		if (ret > 0 && ktap_compare("dgram data", dst, src, (size_t)ret) >= 0)
			pass = 0;
		if (dst[6000] != PROBE_CANARY) {
			ktap_diag("data past the datagram (0x%02x)", dst[6000]);
			pass = 0;
		}
		ktap_result(pass, "dgram_sendmsg_recvmsg", "expected ret=6000, no MSG_TRUNC");
	}

	/* 4: truncated datagram */
	{
		static const size_t ws[] = { 3000, 3000 };
		static const size_t rs[] = { 1, 2999, 1000 };
		struct iovec wiov[2];

		probe_split_iov(wiov, src + 100, ws, 2);
		ret = do_sendmsg("sendmsg(dgram, 2 iovecs, 6000 bytes)", dg[0], wiov, 2, &err);
		pass = ret == 6000;
		memset(dst, PROBE_CANARY, sizeof(dst));
		ret = recv_dgram(dg[1], rs, 3, &flags, &err);
		if (ret != 4000 || !(flags & MSG_TRUNC))
			pass = 0;
		if (ret > 0 && ktap_compare("truncated dgram data", dst, src + 100, (size_t)ret) >= 0)
			pass = 0;
		if (dst[4000] != PROBE_CANARY) {
			ktap_diag("data past the receive iovecs (0x%02x)", dst[4000]);
			pass = 0;
		}
		errno = 0;
		ret = recv(dg[1], dst, 16, MSG_DONTWAIT);
		ktap_diag_ret("recv after the truncated datagram (want EAGAIN)", ret, errno);
		if (!(ret == -1 && errno == EAGAIN))
			pass = 0;
		ktap_result(pass, "dgram_truncated", "expected ret=4000 with MSG_TRUNC");
	}

	/* 5 */
	{
		int i;

		for (i = 0; i <= UIO_MAXIOV; i++) {
			many[i].iov_base = src;
			many[i].iov_len = 1;
		}
		ret = do_sendmsg("sendmsg(dgram, 1025 iovecs)", dg[0], many, UIO_MAXIOV + 1, &err);
		ktap_result(ret == -1 && err == EMSGSIZE, "sendmsg_too_many_iovecs",
			    "expected ret=-1 with EMSGSIZE");
	}

	/* 6 */
	{
		struct iovec *volatile bad = (struct iovec *)1;

		ret = do_sendmsg("sendmsg(dgram, msg_iov=(void*)1, 2)", dg[0], bad, 2, &err);
		pass = ret == -1 && err == EFAULT;
		errno = 0;
		ret = recv(dg[1], dst, 16, MSG_DONTWAIT);
		ktap_diag_ret("recv (want EAGAIN: nothing was sent)", ret, errno);
		if (!(ret == -1 && errno == EAGAIN))
			pass = 0;
		ktap_result(pass, "sendmsg_bad_iov", "expected ret=-1 with EFAULT");
	}

	/* 7 */
	pass = mmsg_case(dg[0], dg[1]);
	if (pass < 0)
		ktap_skip("sendmmsg_recvmmsg", "sendmmsg: ENOSYS");
	else
		ktap_result(pass, "sendmmsg_recvmmsg", "expected 3 messages of 1000, 4096, 3 bytes");

	close(st[0]);
	close(st[1]);
	close(dg[0]);
	close(dg[1]);
	return ktap_exit();
}
