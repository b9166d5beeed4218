/*
 * init-supervise.c - run one plan entry: fork and exec it in its own
 * session and its CWD, forward its output into the subtest until it exits
 * (or its timeout passes), kill what is left, then print how it ended and
 * the subtest's result line. Kernel log records are printed as they
 * arrive, between the child's lines (a child's unfinished line stays
 * buffered until its newline).
 *
 *     exit 0            ok N ID
 *     exit 4            ok N ID # SKIP <last SKIP reason | last non-TAP line it printed | exit status 4 (skip)>
 *     exit 0 or 4, but a "not ok" in its output (any depth, not SKIP/TODO)
 *                       not ok N ID # exit status S but its TAP has: not ok ...
 *     other exit        not ok N ID # exit status S
 *     signal            not ok N ID # killed by signal S (SIGNAME)
 *     timeout           not ok N ID # TIMEOUT after T s
 *     exec/setuid/chdir fail
 *                       not ok N ID # exec failed: [setuid U: |chdir CWD: ]<strerror>
 *     bad plan line     not ok N ID # bad plan entry: <why>
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define EOF_GRACE_MS 2000       /* after the child exited: wait for the pipe to close */
#define KILL_GRACE_MS 5000      /* after SIGKILL: wait for the child to be reaped */
#define POLL_SLICE_MS 100       /* upper bound between two waitpid() checks */

static const char *signame(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
#define S(s) { s, #s }
		S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGTRAP),
		S(SIGABRT), S(SIGBUS), S(SIGFPE), S(SIGKILL), S(SIGUSR1),
		S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM), S(SIGTERM),
		S(SIGSTKFLT), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP),
		S(SIGTTIN), S(SIGTTOU), S(SIGURG), S(SIGXCPU), S(SIGXFSZ),
		S(SIGVTALRM), S(SIGPROF), S(SIGWINCH), S(SIGIO), S(SIGPWR),
		S(SIGSYS),
#undef S
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "SIG?";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the child reports through the CLOEXEC error pipe if it cannot exec. */
struct exec_error {
	char what[256];
	int err;
};

static __attribute__((noreturn)) void child_exec(const struct entry *e,
						 int out_w, int err_w)
{
	struct exec_error xe;
	sigset_t none;
	int fd;

	/* Own session and process group, so a timeout can kill all of it. */
	setsid();
	dup2(out_w, STDOUT_FILENO);
	dup2(out_w, STDERR_FILENO);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	} else if (fd < 0) {
		close(STDIN_FILENO);
	}
	/* SIG_IGN survives exec; give the program default dispositions. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	memset(&xe, 0, sizeof(xe));
	if (e->uid != 0) {
		if (setgroups(0, NULL) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setgroups");
			goto fail;
		}
		if (setgid(e->uid) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setgid %u", e->uid);
			goto fail;
		}
		if (setuid(e->uid) < 0) {
			snprintf(xe.what, sizeof(xe.what), "setuid %u", e->uid);
			goto fail;
		}
	}
	/* After setuid: the directory must be usable by the entry's user. */
	if (chdir(e->cwd) < 0) {
		snprintf(xe.what, sizeof(xe.what), "chdir %s", e->cwd);
		goto fail;
	}
	execvp(e->argv[0], e->argv);
	xe.what[0] = 0; /* the exec itself */
fail:
	xe.err = errno;
	if (write(err_w, &xe, sizeof(xe)) < 0) {
		/* nothing to do: the parent reports the exit status instead */
	}
	_exit(127);
}

/* One running entry, from fork to result line. */
struct run {
	int n;                  /* its number in the plan, 1-based */
	const struct entry *e;
	pid_t pid;
	int out_fd;             /* read end of its stdout+stderr pipe, -1 once closed */
	int err_fd;             /* read end of its exec-error pipe, -1 once closed */
	int64_t start, deadline;
	int done;               /* reaped: status and done_at are valid */
	int status;
	int64_t done_at;
	int killed_leftovers;   /* its process group was killed once it exited */
	int timed_out;
	int stuck;              /* did not die within KILL_GRACE_MS of SIGKILL */
	int exec_failed;        /* xe holds why */
	struct exec_error xe;
	struct child_out co;
};

/* Reap every exited child (adopted orphans too); note the entry's status. */
static void reap(struct run *r)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p <= 0)
			return;
		if (p == r->pid && !r->done) {
			r->done = 1;
			r->status = st;
			r->done_at = now_ms();
		}
	}
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL); /* the child's process group (setsid) */
	kill(pid, SIGKILL);  /* in case it had not reached setsid() yet */
}

static void start_child(struct run *r, int n, const struct entry *e)
{
	int outp[2], errp[2];

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->e = e;
	child_out_init(&r->co);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		bail("pipe: %s", strerror(errno));
	r->start = now_ms();
	r->deadline = r->start + (int64_t)e->timeout_s * 1000;
	r->pid = fork();
	if (r->pid < 0)
		bail("fork: %s", strerror(errno));
	if (r->pid == 0)
		child_exec(e, outp[1], errp[1]);
	close(outp[1]);
	close(errp[1]);
	r->out_fd = outp[0];
	r->err_fd = errp[0];
}

/* Forward what the child wrote; close the pipe at EOF. */
static void read_output(struct run *r)
{
	if (!read_child(r->out_fd, &r->co)) {
		close(r->out_fd);
		r->out_fd = -1;
	}
}

/* EOF without data: exec succeeded (CLOEXEC) or the child died. */
static void read_exec_error(struct run *r)
{
	if (read(r->err_fd, &r->xe, sizeof(r->xe)) == (ssize_t)sizeof(r->xe))
		r->exec_failed = 1;
	close(r->err_fd);
	r->err_fd = -1;
}

/*
 * One turn of the supervise loop: reap, and say how long to wait for
 * output, or -1 when the loop is over (pipes closed after the exit, the
 * pipe still open EOF_GRACE_MS after it, or the deadline passed).
 */
static int next_wait(struct run *r)
{
	int64_t now, until;

	reap(r);
	if (r->done && !r->killed_leftovers) {
		/* Background leftovers of a finished child may hold the pipe. */
		kill_group(r->pid);
		r->killed_leftovers = 1;
	}
	now = now_ms();
	if (r->done && r->out_fd < 0 && r->err_fd < 0)
		return -1;
	if (r->done && now >= r->done_at + EOF_GRACE_MS) {
		out("    # kseries-init: output pipe still open %d ms after exit; closing it",
		    EOF_GRACE_MS);
		return -1;
	}
	if (!r->done && now >= r->deadline) {
		r->timed_out = 1;
		return -1;
	}
	until = r->done ? r->done_at + EOF_GRACE_MS : r->deadline;
	return (int)(until - now < POLL_SLICE_MS ? until - now : POLL_SLICE_MS);
}

/*
 * Wait up to wait_ms for either pipe or the kernel log and read what
 * arrived. Kernel log records first: one seen together with output was
 * most likely logged by the syscall whose result that output reports.
 */
static void poll_pipes(struct run *r, int wait_ms)
{
	struct pollfd pfd[3];
	int nfds = 0, out_i = -1, err_i = -1, kmsg_i = -1;
	int kmsg_fd = kmsg_poll_fd();

	if (r->out_fd >= 0) {
		out_i = nfds;
		pfd[nfds].fd = r->out_fd;
		pfd[nfds++].events = POLLIN;
	}
	if (r->err_fd >= 0) {
		err_i = nfds;
		pfd[nfds].fd = r->err_fd;
		pfd[nfds++].events = POLLIN;
	}
	if (nfds == 0 && wait_ms > 10)
		wait_ms = 10; /* pipes closed, child not reaped yet */
	if (kmsg_fd >= 0) {
		kmsg_i = nfds;
		pfd[nfds].fd = kmsg_fd;
		pfd[nfds++].events = POLLIN;
	}
	if (poll(nfds ? pfd : NULL, (nfds_t)nfds, wait_ms) <= 0)
		return;
	if (kmsg_i >= 0 && pfd[kmsg_i].revents)
		read_kmsg();
	if (out_i >= 0 && pfd[out_i].revents)
		read_output(r);
	if (err_i >= 0 && pfd[err_i].revents)
		read_exec_error(r);
}

/*
 * Forward output until the pipe closes and the child is reaped, or the
 * deadline passes. poll() is capped at POLL_SLICE_MS so the exit of a
 * child whose pipe stays open (inherited by a grandchild) is noticed.
 */
static void supervise(struct run *r)
{
	int wait_ms;

	while ((wait_ms = next_wait(r)) >= 0)
		poll_pipes(r, wait_ms);
}

/*
 * Kill whatever is left in the child's process group (everything on a
 * timeout) and give it KILL_GRACE_MS to be reaped, forwarding any output
 * it wrote before dying. A task stuck in the kernel (D state) ignores
 * SIGKILL: report it and move on rather than hang.
 */
static void kill_leftovers(struct run *r)
{
	int64_t kill_deadline;

	kill_group(r->pid);
	if (r->done)
		return;
	kill_deadline = now_ms() + KILL_GRACE_MS;
	while (!r->done && now_ms() < kill_deadline) {
		if (r->out_fd >= 0) {
			struct pollfd p = { .fd = r->out_fd, .events = POLLIN };

			if (poll(&p, 1, 10) > 0)
				read_output(r);
		} else {
			poll(NULL, 0, 10);
		}
		reap(r);
	}
	if (!r->done) {
		r->stuck = 1;
		out("    # kseries-init: pid %d did not die within %d ms of SIGKILL",
		    (int)r->pid, KILL_GRACE_MS);
	}
}

/* Whatever is still buffered in the pipes (bounded: a writer may linger). */
static void drain_pipes(struct run *r)
{
	if (r->out_fd >= 0) {
		int i;

		fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
		for (i = 0; i < 256 && read_child(r->out_fd, &r->co); i++)
			;
		close(r->out_fd);
		r->out_fd = -1;
	}
	if (r->err_fd >= 0) {
		fcntl(r->err_fd, F_SETFL, O_NONBLOCK);
		read_exec_error(r);
	}
	child_flush(&r->co);
}

/* "# kseries-init: pid P exit status S after T s" (or the signal). */
static void report_exit(const struct run *r)
{
	int64_t ms = r->done_at - r->start;

	if (!r->done)
		return;
	if (WIFSIGNALED(r->status))
		out("    # kseries-init: pid %d killed by signal %d (%s)%s after %d.%02d s",
		    (int)r->pid, WTERMSIG(r->status), signame(WTERMSIG(r->status)),
		    WCOREDUMP(r->status) ? ", core dumped" : "",
		    (int)(ms / 1000), (int)(ms % 1000 / 10));
	else
		out("    # kseries-init: pid %d exit status %d after %d.%02d s",
		    (int)r->pid, WEXITSTATUS(r->status), (int)(ms / 1000),
		    (int)(ms % 1000 / 10));
}

/* The subtest's result line (see the table at the top). */
static void report_result(struct run *r)
{
	const char *id = r->e->id;
	int n = r->n, st = r->status;

	if (r->exec_failed) {
		r->xe.what[sizeof(r->xe.what) - 1] = 0;
		out("not ok %d %s # exec failed: %s%s%s", n, id, r->xe.what,
		    r->xe.what[0] ? ": " : "", strerror(r->xe.err));
	} else if (r->timed_out) {
		out("not ok %d %s # TIMEOUT after %d s%s", n, id, r->e->timeout_s,
		    r->stuck ? " (unkillable)" : "");
	} else if (WIFSIGNALED(st)) {
		out("not ok %d %s # killed by signal %d (%s)", n, id,
		    WTERMSIG(st), signame(WTERMSIG(st)));
	} else if (r->co.not_ok[0] && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 4)) {
		out("not ok %d %s # exit status %d but its TAP has: %s", n, id,
		    WEXITSTATUS(st), r->co.not_ok);
	} else if (WEXITSTATUS(st) == 0) {
		out("ok %d %s", n, id);
	} else if (WEXITSTATUS(st) == 4) { /* KSFT_SKIP */
		out("ok %d %s # SKIP %s", n, id,
		    r->co.skip_reason[0] ? r->co.skip_reason :
		    r->co.last_said[0] ? r->co.last_said : "exit status 4 (skip)");
	} else {
		out("not ok %d %s # exit status %d", n, id, WEXITSTATUS(st));
	}
}

void run_entry(int n, const struct entry *e)
{
	static struct run r; /* big (the line buffer): not on PID 1's stack */

	out("    KTAP version 1");
	out("    # Subtest: %s", e->id);
	if (e->error) {
		out("    # kseries-init: plan line %d: %s", e->lineno, e->error);
		out("not ok %d %s # bad plan entry: %s", n, e->id, e->error);
		return;
	}
	start_child(&r, n, e);
	supervise(&r);
	kill_leftovers(&r);
	drain_pipes(&r);
	report_exit(&r);
	drain_kmsg();
	report_result(&r);
}
