/*
 * init-kmsg.c - kernel log records logged while an entry ran, printed as
 * "    # kmsg: <message>" inside its subtest (the boot log is skipped).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define KMSG_RECORD_MAX 16384   /* read() of /dev/kmsg needs room for a whole record */
#define KMSG_MAX_RECORDS 20000  /* per drain, so a printk storm cannot stall us */

static int kmsg_fd = -1;

void open_kmsg(void)
{
	const char *path = "/dev/kmsg";

	if (TESTING) {
		path = getenv("KSERIES_KMSG");
		if (!path || !*path)
			return;
	}
	kmsg_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0) {
		out("# kseries-init: open %s: %s", path, strerror(errno));
		return;
	}
	/* Skip the boot log: only messages logged while probes run are wanted. */
	lseek(kmsg_fd, 0, SEEK_END);
}

/*
 * Print every kernel log record logged since the last call as
 * "    # kmsg: <message>". A record reads as "prio,seq,ts,flags;message\n"
 * followed by optional " KEY=value\n" dictionary lines, which are dropped.
 */
void drain_kmsg(void)
{
	static char rec[KMSG_RECORD_MAX + 1];
	int i;

	if (kmsg_fd < 0)
		return;
	for (i = 0; i < KMSG_MAX_RECORDS; i++) {
		ssize_t n = read(kmsg_fd, rec, KMSG_RECORD_MAX);
		char *msg, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* Ring buffer overran us; the next read resumes at the oldest record. */
			out("    # kseries-init: kmsg overrun, some messages were lost");
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			out("    # kseries-init: read kmsg: %s", strerror(errno));
		if (n <= 0)
			return;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		sanitize(msg);
		out("    # kmsg: %s", msg);
	}
	out("    # kseries-init: kmsg: stopped after %d records", KMSG_MAX_RECORDS);
}
