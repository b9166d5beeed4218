/*
 * init-kmsg.c - kernel log records logged while an entry ran, printed as
 * "    # kmsg: <message>" inside its subtest (the boot log is skipped).
 *
 * The supervise loop polls kmsg_poll_fd() next to the child's pipes and
 * calls read_kmsg() when it is readable, so records land between the
 * child's output lines in the order they appeared; drain_kmsg() after the
 * entry ends picks up the last ones.
 *
 * In test mode $KSERIES_KMSG may name a FIFO or a plain file instead of
 * /dev/kmsg: a FIFO whose writer went away is reopened (poll() would
 * otherwise report POLLHUP forever), any other file at EOF is no longer
 * polled (only read by drain_kmsg()). Neither is a read error: poll()
 * would keep waking us up for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define KMSG_RECORD_MAX 16384   /* read() of /dev/kmsg needs room for a whole record */
#define KMSG_MAX_RECORDS 20000  /* per drain, so a printk storm cannot stall us */
#define KMSG_POLL_RECORDS 64    /* per wake-up of the supervise loop */

static int kmsg_fd = -1;
static const char *kmsg_path;
static int kmsg_is_fifo;
static int kmsg_no_poll;        /* EOF (not a FIFO) or a read error: do not poll it */

static int open_path(void)
{
	return open(kmsg_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

void open_kmsg(void)
{
	struct stat st;

	kmsg_path = "/dev/kmsg";
	if (TESTING) {
		kmsg_path = getenv("KSERIES_KMSG");
		if (!kmsg_path || !*kmsg_path)
			return;
	}
	kmsg_fd = open_path();
	if (kmsg_fd < 0) {
		out("# kseries-init: open %s: %s", kmsg_path, strerror(errno));
		return;
	}
	kmsg_is_fifo = fstat(kmsg_fd, &st) == 0 && S_ISFIFO(st.st_mode);
	/*
	 * Skip the boot log: only messages logged while probes run are
	 * wanted. (On a FIFO this fails with ESPIPE: nothing to skip.)
	 */
	if (!kmsg_is_fifo)
		lseek(kmsg_fd, 0, SEEK_END);
}

int kmsg_poll_fd(void)
{
	return kmsg_no_poll ? -1 : kmsg_fd;
}

/*
 * read() returned 0: only a FIFO without a writer or a plain file does
 * that. Reopen the FIFO (a fresh open reports no POLLHUP until the next
 * writer has come and gone); stop polling anything else.
 */
static void kmsg_eof(void)
{
	int fd;

	if (!kmsg_is_fifo) {
		kmsg_no_poll = 1;
		return;
	}
	fd = open_path();
	if (fd < 0)
		out("    # kseries-init: reopen %s: %s", kmsg_path, strerror(errno));
	close(kmsg_fd);
	kmsg_fd = fd;
}

/*
 * Print the records in buf. A record reads as "prio,seq,ts,flags;message\n"
 * followed by optional " KEY=value\n" dictionary lines, which are dropped.
 * /dev/kmsg gives one record per read(); a test-mode FIFO may give several.
 */
static void print_records(char *buf)
{
	char *line, *next;

	for (line = buf; *line; line = next) {
		char *msg;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		if (line[0] == ' ')
			continue;
		msg = strchr(line, ';');
		if (!msg)
			continue;
		msg++;
		sanitize(msg);
		out("    # kmsg: %s", msg);
	}
}

/*
 * Print up to max records that are available now. Returns 1 if it stopped
 * at max with more possibly waiting, else 0.
 */
static int read_records(int max)
{
	static char rec[KMSG_RECORD_MAX + 1];
	int i;

	if (kmsg_fd < 0)
		return 0;
	for (i = 0; i < max; i++) {
		ssize_t n = read(kmsg_fd, rec, KMSG_RECORD_MAX);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* Ring buffer overran us; the next read resumes at the oldest record. */
			out("    # kseries-init: kmsg overrun, some messages were lost");
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			out("    # kseries-init: read kmsg: %s", strerror(errno));
			kmsg_no_poll = 1;
		}
		if (n == 0)
			kmsg_eof();
		if (n <= 0)
			return 0;
		rec[n] = 0;
		print_records(rec);
	}
	return 1;
}

void read_kmsg(void)
{
	read_records(KMSG_POLL_RECORDS);
}

void drain_kmsg(void)
{
	if (read_records(KMSG_MAX_RECORDS))
		out("    # kseries-init: kmsg: stopped after %d records", KMSG_MAX_RECORDS);
}
