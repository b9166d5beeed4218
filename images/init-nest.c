/*
 * init-nest.c - a child's output nested under the subtest the init opened.
 *
 * stdout and stderr share one pipe, read line by line. Lines that are
 * (K)TAP by grammar (after any leading spaces) are indented by 4; anything
 * else is printed as "    # <line>". The child's first version line is
 * swallowed (init printed the subtest's own). On the way the last SKIP
 * reason and the first "not ok" at any depth are noted for the result line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_test_point(const char *s)
{
	return (starts_with(s, "ok") && (s[2] == 0 || s[2] == ' ')) ||
	       (starts_with(s, "not ok") && (s[6] == 0 || s[6] == ' '));
}

/*
 * Is `s` (indentation already stripped) a (K)TAP line by grammar? Test
 * points, plans ("1..N"), "#" comments, version lines, "Bail out!" and
 * pragmas. Anything else is a program's plain output.
 */
static int is_tap_body(const char *s)
{
	const char *p = s;

	if (is_test_point(s) || s[0] == '#' ||
	    starts_with(s, "KTAP version ") || starts_with(s, "TAP version ") ||
	    strncasecmp(s, "Bail out!", 9) == 0 ||
	    starts_with(s, "pragma +") || starts_with(s, "pragma -"))
		return 1;
	/* plan: "1..N", optionally followed by " # directive" */
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s || !starts_with(p, "..") || !isdigit((unsigned char)p[2]))
		return 0;
	p += 2;
	while (isdigit((unsigned char)*p))
		p++;
	p += strspn(p, " ");
	return *p == 0 || (*p == '#' && p[-1] == ' ');
}

/* Remember the reason of "ok N name # SKIP reason" / "1..0 # SKIP reason". */
static void note_skip(struct child_out *c, const char *s)
{
	const char *d;

	if (!starts_with(s, "ok ") && !starts_with(s, "1..0"))
		return;
	d = strcasestr(s, "# SKIP");
	if (!d)
		return;
	d += strlen("# SKIP");
	d += strspn(d, " ");
	if (*d)
		snprintf(c->skip_reason, sizeof(c->skip_reason), "%s", d);
}

/*
 * Remember the first "not ok" the child printed at any depth: indented
 * subtests, or nested TAP printed as "# " comments (kselftest's runner says
 * "ok" for a test that exits 0 whatever its own TAP said). SKIP and TODO
 * directives excuse it. Only the description up to its directive is kept.
 */
static void note_not_ok(struct child_out *c, const char *s)
{
	const char *d;

	while (*s == '#' || *s == ' ')
		s++;
	if (c->not_ok[0] || !starts_with(s, "not ok") || (s[6] && s[6] != ' '))
		return;
	for (d = strchr(s, '#'); d; d = strchr(d + 1, '#')) {
		const char *k = d + 1 + strspn(d + 1, " ");

		if (d[-1] != ' ')
			continue;
		if (strncasecmp(k, "SKIP", 4) == 0 || strncasecmp(k, "TODO", 4) == 0)
			return;
		break; /* another directive: still a failure */
	}
	snprintf(c->not_ok, sizeof(c->not_ok), "%.*s",
		 (int)(d ? (size_t)(d - 1 - s) : strlen(s)), s);
}

/*
 * One line of child output. TAP lines (at any indentation: nested subtests)
 * are re-indented by 4 spaces under the subtest init opened; TAP 13 YAML
 * blocks under a test point are kept as they are; every other line becomes
 * a "# " diagnostic so plain program output survives without breaking the
 * document.
 */
static void child_line(struct child_out *c, char *s)
{
	size_t l = strlen(s);
	int indent;

	/* CRLF endings and trailing blanks would spoil plan/result matching */
	while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = 0;
	sanitize(s);
	indent = (int)strspn(s, " ");

	if (c->yaml_indent >= 0) {
		if (indent >= c->yaml_indent && s[indent]) {
			if (indent == c->yaml_indent && strcmp(s + indent, "...") == 0)
				c->yaml_indent = -1;
			out("    %s", s);
			return;
		}
		c->yaml_indent = -1; /* unterminated block: back to normal */
	}
	if (c->point_indent >= 0 && indent == c->point_indent + 2 &&
	    strcmp(s + indent, "---") == 0) {
		c->yaml_indent = indent;
		c->point_indent = -1;
		out("    %s", s);
		return;
	}
	c->point_indent = -1;

	/* init printed "    KTAP version 1" for the subtest already */
	if (!c->seen_version && !c->seen_body && indent == 0 &&
	    (starts_with(s, "KTAP version ") || starts_with(s, "TAP version "))) {
		c->seen_version = 1;
		return;
	}
	if (!s[indent]) {
		out("    #");
	} else if (is_tap_body(s + indent)) {
		if (is_test_point(s + indent))
			c->point_indent = indent;
		note_not_ok(c, s + indent);
		if (indent == 0 && s[0] != '#') {
			c->seen_body = 1;
			note_skip(c, s);
		}
		out("    %s", s);
	} else {
		out("    # %s", s);
		/* A skip with no "# SKIP" directive is explained by what it said last. */
		snprintf(c->last_said, sizeof(c->last_said), "%s", s + indent);
	}
}

static void child_bytes(struct child_out *c, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || c->len == CHILD_LINE_MAX) {
			c->line[c->len] = 0;
			child_line(c, c->line);
			c->len = 0;
			if (buf[i] == '\n')
				continue;
		}
		c->line[c->len++] = buf[i] ? buf[i] : '?';
	}
}

void child_flush(struct child_out *c)
{
	if (c->len) {
		c->line[c->len] = 0;
		child_line(c, c->line);
		c->len = 0;
	}
}

/* Read what is available on the child's pipe. Returns 0 at EOF, else 1. */
int read_child(int fd, struct child_out *c)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	if (n == 0)
		return 0;
	child_bytes(c, buf, (size_t)n);
	return 1;
}

void child_out_init(struct child_out *c)
{
	memset(c, 0, sizeof(*c));
	c->point_indent = c->yaml_indent = -1;
}
