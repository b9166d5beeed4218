/*
 * io_uring_evdev - io_uring IORING_OP_READ of an evdev node, a file with
 * only ->read whose record size depends on the caller's ABI.
 *
 * evdev_read() sizes each struct input_event with input_event_size(): 16
 * bytes when in_compat_syscall() (a compat task with 32-bit time), 24
 * otherwise. A 32-bit program always expects 16. When io_uring issues the
 * read outside the submitting task's syscall (an io-wq worker after
 * IOSQE_ASYNC or a -EAGAIN punt, or the SQPOLL thread), v5.9 is not "in a
 * compat syscall" there and hands a compat task 24-byte records: the bug
 * the series' cover letter describes. Such a case FAILS here with the byte
 * count and record size as evidence; it passes when the records have the
 * size this ABI expects and carry the injected events.
 *
 * The events come from a uinput device this probe creates (needs
 * CONFIG_INPUT_UINPUT + CONFIG_INPUT_EVDEV and devtmpfs; skipped with the
 * reason otherwise). Before each case the evdev client buffer is drained,
 * then four events are injected through uinput (EV_KEY key 1, SYN_REPORT,
 * EV_KEY key 0, SYN_REPORT, a different key per case) and read back in one
 * 96-byte read (room for four 24-byte records, or six 16-byte ones).
 *
 * Cases:
 *   uinput_device      /dev/uinput device created, its /dev/input/eventN open
 *   read_syscall       read(2): the reference path
 *   uring_read_inline  IORING_OP_READ submitted inline (evdev has no
 *                      ->read_iter, so io_uring may still punt it to io-wq)
 *   uring_read_async   IORING_OP_READ with IOSQE_ASYNC (io-wq worker)
 *   uring_read_sqpoll  IORING_OP_READ on an SQPOLL ring, registered file
 *
 * Each case prints
 *   # <case>: ret=<bytes> events=4 record_size=<n> (expected <m>)
 * and compares the (type, code, value) of the four records, parsed the way
 * this ABI lays out struct input_event, against what was injected.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/input.h>
#include <linux/uinput.h>

#include "probe.h"
#include "uring.h"

#define NEV 4
#define READ_LEN 96 /* 4 x 24 = 6 x 16 */
#define WAIT_MS 3000

static const char *const case_names[] = {
	"uinput_device", "read_syscall", "uring_read_inline", "uring_read_async",
	"uring_read_sqpoll",
};
#define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))

static const unsigned short keys[] = { KEY_A, KEY_B, KEY_C, KEY_D };

/* (type, code, value): the tail of struct input_event in either layout */
struct tail {
	uint16_t type;
	uint16_t code;
	int32_t value;
};

static int uinput_fd = -1, ev_fd = -1;
static char ev_path[64];

static void expected_tails(struct tail *t, unsigned short key)
{
	t[0] = (struct tail){ EV_KEY, key, 1 };
	t[1] = (struct tail){ EV_SYN, SYN_REPORT, 0 };
	t[2] = (struct tail){ EV_KEY, key, 0 };
	t[3] = (struct tail){ EV_SYN, SYN_REPORT, 0 };
}

static int inject(unsigned short key)
{
	struct input_event ev[NEV];
	struct tail t[NEV];
	ssize_t n;
	int i;

	expected_tails(t, key);
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < NEV; i++) {
		ev[i].type = t[i].type;
		ev[i].code = t[i].code;
		ev[i].value = t[i].value;
	}
	errno = 0;
	n = write(uinput_fd, ev, sizeof(ev));
	if (n != (ssize_t)sizeof(ev)) {
		ktap_diag_ret("write(uinput, 4 events)", (long)n, errno);
		return -1;
	}
	return 0;
}

/* The evdev fd is O_NONBLOCK for draining; io_uring submissions clear it. */
static void set_nonblock(int on)
{
	int fl = fcntl(ev_fd, F_GETFL);

	if (fl >= 0)
		fcntl(ev_fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Empty the evdev client buffer (bounded). */
static void drain(void)
{
	unsigned char junk[24 * 16];
	int i;

	for (i = 0; i < 64; i++)
		if (read(ev_fd, junk, sizeof(junk)) <= 0)
			break;
}

/*
 * Judge `ret` bytes in buf as the answer to a 4-event read. Prints the
 * stable evidence line and the (type, code, value) comparison.
 */
static int judge(const char *name, long ret, const unsigned char *buf, unsigned short key)
{
	const size_t want_size = sizeof(struct input_event);
	const size_t tail_off = want_size - sizeof(struct tail);
	struct tail want[NEV], got[NEV];
	long n, i;
	int pass;

	expected_tails(want, key);
	if (ret < 0) {
		ktap_diag("%s: ret=%ld (no records)", name, ret);
		return 0;
	}
	if (ret % NEV == 0)
		ktap_diag("%s: ret=%ld events=%d record_size=%ld (expected %zu)", name, ret, NEV,
			  ret / NEV, want_size);
	else
		ktap_diag("%s: ret=%ld events=%d record_size=? (not a multiple of %d; expected %zu)",
			  name, ret, NEV, NEV, want_size);
	pass = ret == (long)(NEV * want_size);
	/* What this ABI's program would decode from the buffer. */
	n = ret / (long)want_size;
	if (n > NEV)
		n = NEV;
	memset(got, 0xff, sizeof(got));
	for (i = 0; i < n; i++)
		memcpy(&got[i], buf + (size_t)i * want_size + tail_off, sizeof(struct tail));
	for (i = 0; i < n; i++)
		ktap_diag("%s: record %ld as decoded here: type=%u code=%u value=%d", name, i,
			  got[i].type, got[i].code, got[i].value);
	if (ktap_compare("type/code/value of the 4 records", got, want, sizeof(want)) >= 0)
		pass = 0;
	return pass;
}

static int find_event_node(void)
{
	char sysname[64] = "", dir[160];
	int64_t deadline;
	DIR *d;
	struct dirent *de;
	int num = -1;

	if (ioctl(uinput_fd, UI_GET_SYSNAME(sizeof(sysname)), sysname) < 0) {
		ktap_diag_ret("ioctl(UI_GET_SYSNAME)", -1, errno);
		return -1;
	}
	snprintf(dir, sizeof(dir), "/sys/devices/virtual/input/%s", sysname);
	deadline = probe_now_ms() + 2000;
	while (num < 0 && probe_now_ms() < deadline) {
		d = opendir(dir);
		if (d) {
			while ((de = readdir(d)) != NULL)
				if (sscanf(de->d_name, "event%d", &num) == 1)
					break;
			closedir(d);
		}
		if (num < 0)
			probe_sleep_ms(10);
	}
	if (num < 0) {
		ktap_diag("no eventN under %s (CONFIG_INPUT_EVDEV?)", dir);
		return -1;
	}
	snprintf(ev_path, sizeof(ev_path), "/dev/input/event%d", num);
	while (probe_now_ms() < deadline + 1000) {
		ev_fd = open(ev_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (ev_fd >= 0 || errno != ENOENT)
			break;
		probe_sleep_ms(10);
	}
	if (ev_fd < 0) {
		ktap_diag("open %s: errno=%d %s", ev_path, errno, ktap_errname(errno));
		return -1;
	}
	ktap_diag("uinput device %s -> %s (fd %d)", sysname, ev_path, ev_fd);
	return 0;
}

/* 0 ok, -1 failed (evidence printed), -2 unavailable (reason in buf) */
static int create_device(char *why, size_t whylen)
{
	struct uinput_setup us;
	size_t i;

	uinput_fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (uinput_fd < 0) {
		int err = errno;

		snprintf(why, whylen, "/dev/uinput: %s (needs CONFIG_INPUT_UINPUT and devtmpfs%s)",
			 ktap_errname(err), err == EACCES ? ", and root" : "");
		return (err == ENOENT || err == ENODEV || err == ENXIO || err == EACCES ||
			err == EPERM) ? -2 : -1;
	}
	if (ioctl(uinput_fd, UI_SET_EVBIT, EV_KEY) < 0 || ioctl(uinput_fd, UI_SET_EVBIT, EV_SYN) < 0) {
		ktap_diag_ret("ioctl(UI_SET_EVBIT)", -1, errno);
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (ioctl(uinput_fd, UI_SET_KEYBIT, keys[i]) < 0) {
			ktap_diag_ret("ioctl(UI_SET_KEYBIT)", -1, errno);
			return -1;
		}
	memset(&us, 0, sizeof(us));
	us.id.bustype = BUS_VIRTUAL;
	us.id.vendor = 0x6b73;
	us.id.product = 0x0001;
	snprintf(us.name, sizeof(us.name), "kseries-evdev-%d", (int)getpid());
	if (ioctl(uinput_fd, UI_DEV_SETUP, &us) < 0) {
		ktap_diag_ret("ioctl(UI_DEV_SETUP)", -1, errno);
		return -1;
	}
	if (ioctl(uinput_fd, UI_DEV_CREATE) < 0) {
		ktap_diag_ret("ioctl(UI_DEV_CREATE)", -1, errno);
		return -1;
	}
	return find_event_node();
}

static void uring_case(int c, int mode /* 0 inline, 1 async, 2 sqpoll */)
{
	static unsigned char buf[READ_LEN + 16];
	const char *name = case_names[c];
	unsigned short key = keys[c - 1];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct uring r;
	unsigned idx;
	int ret, sqpoll = mode == 2;

	if (uring_open_case(&r, name, sqpoll, "") < 0)
		return;
	if (sqpoll) {
		if (uring_register_file(&r, ev_fd) < 0) {
			ktap_fail(name, "file registration failed");
			uring_close(&r);
			return;
		}
	}
	if (uring_op_supported(r.fd, IORING_OP_READ) != 1) {
		ktap_skip(name, "IORING_OP_READ/IOSQE_ASYNC not available (kernel < 5.6)");
		uring_close(&r);
		return;
	}
	drain();
	if (inject(key) < 0) {
		ktap_fail(name, "could not inject events");
		uring_close(&r);
		return;
	}
	/*
	 * Submit with the fd in blocking mode (the events are already queued,
	 * so nothing blocks): v5.9 does not punt a read of an O_NONBLOCK file
	 * without ->read_iter to io-wq and completes it with -EAGAIN instead,
	 * which would hide the very path this probe looks at.
	 */
	set_nonblock(0);
	memset(buf, PROBE_CANARY, sizeof(buf));
	sqe = uring_get_sqe(&r, &idx);
	if (!sqe) {
		ktap_fail(name, "SQ ring unexpectedly full");
		uring_close(&r);
		return;
	}
	sqe->opcode = IORING_OP_READ;
	sqe->fd = sqpoll ? 0 : ev_fd;
	sqe->flags = (sqpoll ? IOSQE_FIXED_FILE : 0) | (mode == 1 ? IOSQE_ASYNC : 0);
	sqe->addr = (uint64_t)(uintptr_t)buf;
	sqe->len = READ_LEN;
	sqe->off = 0;
	sqe->user_data = 0xe7de0000u | (unsigned)c;
	ktap_diag("sqe: READ %s fd=%d%s flags=0x%x len=%d", ev_path, sqe->fd,
		  sqpoll ? " (fixed)" : "", sqe->flags, READ_LEN);
	uring_publish(&r, idx);
	uring_submit(&r, 1, sqpoll);
	ret = uring_wait_cqe(&r, sqpoll, &cqe, WAIT_MS);
	set_nonblock(1);
	if (ret < 0) {
		ktap_fail(name, "no completion within %d ms", WAIT_MS);
		uring_close(&r);
		return;
	}
	uring_diag_cqe(name, &cqe);
	ktap_result(judge(name, cqe.res, buf, key) && buf[READ_LEN] == PROBE_CANARY, name,
		    "expected %d bytes: %d records of %zu bytes", (int)(NEV * sizeof(struct input_event)),
		    NEV, sizeof(struct input_event));
	uring_close(&r);
}

int main(void)
{
	static unsigned char buf[READ_LEN + 16];
	char why[256];
	int c, ret;
	long n;

	ktap_plan(NCASES);
	ktap_diag("sizeof(struct input_event)=%zu in this ABI", sizeof(struct input_event));

	ret = create_device(why, sizeof(why));
	if (ret == -2) {
		for (c = 0; c < NCASES; c++)
			ktap_skip(case_names[c], "%s", why);
		return ktap_exit();
	}
	if (ret < 0) {
		ktap_fail("uinput_device", "could not create the uinput device / open its evdev node");
		for (c = 1; c < NCASES; c++)
			ktap_skip(case_names[c], "no evdev device");
		goto out;
	}
	ktap_ok("uinput_device", "%s", ev_path);

	/* 2: read(2), the reference */
	drain();
	if (inject(keys[0]) < 0) {
		ktap_fail("read_syscall", "could not inject events");
	} else {
		memset(buf, PROBE_CANARY, sizeof(buf));
		errno = 0;
		n = read(ev_fd, buf, READ_LEN);
		ktap_diag_ret("read(evdev, 96)", n, errno);
		ktap_result(judge("read_syscall", n, buf, keys[0]), "read_syscall",
			    "expected %zu-byte records", sizeof(struct input_event));
	}

	/* 3-5 */
	{
		char reason[256];
		struct uring probe;

		ret = uring_open(&probe, 4, 0, 0);
		if (ret < 0 && uring_unavailable(-ret, reason, sizeof(reason))) {
			for (c = 2; c < NCASES; c++)
				ktap_skip(case_names[c], "%s", reason);
			goto out;
		}
		if (ret == 0)
			uring_close(&probe);
	}
	uring_case(2, 0);
	uring_case(3, 1);
	uring_case(4, 2);
out:
	if (ev_fd >= 0)
		close(ev_fd);
	if (uinput_fd >= 0) {
		ioctl(uinput_fd, UI_DEV_DESTROY);
		close(uinput_fd);
	}
	return ktap_exit();
}
