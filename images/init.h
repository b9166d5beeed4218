/*
 * init.h - what the modules of the kseries guest init (PID 1) share.
 *
 *     init.c            early setup and main(): the document's header, plan, done
 *     init-console.c    the console: line output, bail-out, power-off
 *     init-plan.c       reading and parsing /kseries/plan
 *     init-nest.c       child output nested as a KTAP subtest, its TAP checked
 *     init-kmsg.c       kernel log records printed under the running entry
 *     init-supervise.c  running one entry: fork/exec, supervise loop, result line
 *
 * Every line the init prints goes through out(), one write(2) per line.
 */
#ifndef KSERIES_INIT_H
#define KSERIES_INIT_H

#include <stddef.h>

#ifdef KSERIES_INIT_TESTING
#define TESTING 1
#else
#define TESTING 0
#endif

#define CHILD_LINE_MAX 4096     /* longer child lines are split */

#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------ init-console.c */

/* Point the output at /dev/console (stdout in test mode). */
void open_console(void);
void out_write(const char *buf, size_t len);
/* Print one line (a newline is appended) with a single write(2). */
PRINTF(1, 2) void out(const char *fmt, ...);
/* End the run: exit in test mode, else sync and restart (PID 1 never exits). */
void power_off(int status);
/* "Bail out! <reason>", then power_off(1). */
PRINTF(1, 2) void bail(const char *fmt, ...);
/* Replace control characters (escape sequences, stray CRs, NULs) by '?'. */
void sanitize(char *s);

/* --------------------------------------------------------- init-plan.c */

#define PLAN_PATH "/kseries/plan"

struct entry {
	char *id;
	int timeout_s;
	unsigned uid;
	char *cwd;         /* absolute: chdir()ed to before the exec */
	char **argv;
	const char *error; /* non-NULL: malformed line, reported as "not ok" */
	int lineno;
};

/* Returns the number of entries; *entries is malloc'ed. Bails out on error. */
int read_plan(const char *path, struct entry **entries);

/* --------------------------------------------------------- init-nest.c */

/* The state of one child's output while it is nested under its subtest. */
struct child_out {
	char line[CHILD_LINE_MAX + 1];
	size_t len;
	int seen_version;   /* its "KTAP version 1" line was swallowed */
	int seen_body;      /* a plan or result line was printed */
	int point_indent;   /* indent of the last test point, -1 if not just after one */
	int yaml_indent;    /* inside a TAP 13 YAML block at this indent, else -1 */
	char skip_reason[512];
	char last_said[256]; /* its last line that was not TAP */
	char not_ok[256];   /* first "not ok" it printed at any depth, "" if none */
};

void child_out_init(struct child_out *c);
/* Read what is available on the child's pipe. Returns 0 at EOF, else 1. */
int read_child(int fd, struct child_out *c);
/* Print a last line the child did not end with a newline. */
void child_flush(struct child_out *c);

/* --------------------------------------------------------- init-kmsg.c */

void open_kmsg(void);
/* The fd to poll for new records, -1 if none (or no longer worth polling). */
int kmsg_poll_fd(void);
/* Print a bounded batch of the records logged since the last read. */
void read_kmsg(void);
/* Print the kernel log records logged since the last call. */
void drain_kmsg(void);

/* ---------------------------------------------------- init-supervise.c */

/* Run plan entry number n (1-based) and print its subtest and result line. */
void run_entry(int n, const struct entry *e);

#endif /* KSERIES_INIT_H */
