/*
 * init-plan.c - the plan: one entry per line, '#' lines and blank lines
 * ignored, TAB-separated fields  ID  TIMEOUT_SECONDS  UID  CWD  ARGV0  [ARGV1 ...].
 * CWD is the absolute directory the entry runs in (the harness writes "/"
 * when it has no other).
 * A malformed line is kept as an entry with an error (reported "not ok").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define PLAN_MAX (1024 * 1024)

static int parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*val = strtoul(s, &end, 10);
	return (errno || *end || *val > max) ? -1 : 0;
}

static void parse_line(char *line, int lineno, struct entry *e)
{
	char *fields[256];
	unsigned long v;
	int n = 0, i;
	char *p = line;

	memset(e, 0, sizeof(*e));
	e->lineno = lineno;
	for (;;) {
		char *tab = strchr(p, '\t');

		if (n < (int)(sizeof(fields) / sizeof(fields[0])) - 1)
			fields[n++] = p;
		if (!tab)
			break;
		*tab = 0;
		p = tab + 1;
	}
	e->id = fields[0];
	if (!*e->id) {
		static char fallback[32];

		snprintf(fallback, sizeof(fallback), "plan-line-%d", lineno);
		e->id = strdup(fallback);
	}
	if (n < 5) {
		e->error = "expected ID, TIMEOUT, UID, CWD, ARGV0 separated by tabs";
		return;
	}
	if (parse_uint(fields[1], 24 * 3600, &v) < 0 || v == 0) {
		e->error = "TIMEOUT_SECONDS must be a positive integer";
		return;
	}
	e->timeout_s = (int)v;
	if (parse_uint(fields[2], UINT_MAX - 1, &v) < 0) {
		e->error = "UID must be a non-negative integer";
		return;
	}
	e->uid = (unsigned)v;
	if (fields[3][0] != '/') {
		e->error = "CWD must be an absolute path";
		return;
	}
	e->cwd = fields[3];
	if (!*fields[4]) {
		e->error = "empty ARGV0";
		return;
	}
	e->argv = calloc((size_t)n - 3, sizeof(char *));
	if (!e->argv)
		bail("out of memory");
	for (i = 4; i < n; i++)
		e->argv[i - 4] = fields[i];
	e->argv[n - 4] = NULL;
}

/* Returns the number of entries; *entries is malloc'ed. Bails out on error. */
int read_plan(const char *path, struct entry **entries)
{
	char *buf, *line, *next;
	int fd, count = 0, lineno = 0;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			bail("no %s", path);
		bail("cannot open %s: %s", path, strerror(errno));
	}
	buf = malloc(PLAN_MAX + 1);
	if (!buf)
		bail("out of memory");
	for (;;) {
		ssize_t n = read(fd, buf + len, PLAN_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bail("cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == PLAN_MAX)
			bail("%s is larger than %d bytes", path, PLAN_MAX);
	}
	close(fd);
	buf[len] = 0;

	*entries = NULL;
	for (line = buf; line && *line; line = next) {
		struct entry *grown;
		size_t l;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = 0;
		if (line[0] == '#' || strspn(line, " \t") == l)
			continue;
		grown = realloc(*entries, (size_t)(count + 1) * sizeof(**entries));
		if (!grown)
			bail("out of memory");
		*entries = grown;
		parse_line(line, lineno, &(*entries)[count++]);
	}
	return count;
}
