/*
 * init-console.c - the init's output: every line goes to /dev/console (the
 * serial port the host reads; stdout in test mode) with one write(2), so a
 * crash loses nothing already printed. Fatal errors become "Bail out!" and
 * a power-off: PID 1 must never exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

static int out_fd = STDOUT_FILENO;

void open_console(void)
{
	int fd;

	if (TESTING)
		return; /* stdout */
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* No node in the initramfs? devtmpfs has one. */
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
		fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	/* Else keep fd 1, which the kernel pointed at the console if it could. */
	if (fd >= 0)
		out_fd = fd;
}

void out_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(out_fd, buf, len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Print one line (a newline is appended) with a single write(2). */
PRINTF(1, 2) void out(const char *fmt, ...)
{
	char buf[CHILD_LINE_MAX + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	out_write(buf, (size_t)n);
}

void power_off(int status)
{
	if (TESTING)
		exit(status);
	/*
	 * write(2) to the serial console returns once the tty has the bytes,
	 * not once the UART sent them: without waiting, the restart can cut off
	 * the last lines (the done line among them) and a finished run reads as
	 * truncated.
	 */
	tcdrain(out_fd);
	sync();
	/*
	 * A restart ends QEMU under -no-reboot and, unlike a power-off, needs
	 * neither ACPI nor PCI in the kernel. The host tells it from an
	 * unexpected reboot by the "done" line printed before it.
	 */
	reboot(RB_AUTOBOOT);
	/* Still here: nothing else we can do, and PID 1 must not exit. */
	out("# kseries-init: reboot(RB_AUTOBOOT) failed: %s", strerror(errno));
	for (;;)
		pause();
}

PRINTF(1, 2) void bail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("Bail out! %s", buf);
	power_off(1);
}

/* Replace control characters (escape sequences, stray CRs, NULs) by '?'. */
void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = (*s == '\t') ? ' ' : '?';
}
