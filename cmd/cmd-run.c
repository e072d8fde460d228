/*
 * cmd-run.c - `heapwise run`: start a program with the tracer preloaded,
 * drain its events while it runs, then write the profile and a summary.
 *
 * heapwise stays the program's parent and keeps out of its way (launch.c
 * starts it) and exits with the program's status.
 *
 * Dashboards (`heapwise live PID`) and `heapwise snapshot` can reach the
 * run at any time through report/profile/live-channel.h. With --live (or
 * `heapwise live -- PROG`) one is shown here, on a thread of its own; the
 * program's output that would go to the terminal goes to a file instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../report/analysis/leaks.h"
#include "../report/analysis/site-names.h"
#include "../report/collect/collector.h"
#include "../report/collect/live-server.h"
#include "../report/profile/profile.h"
#include "../report/util/clock.h"
#include "../report/util/privfile.h"
#include "../report/util/proc.h"
#include "builtin.h"
#include "launch.h"
#include "live-ui.h"
#include "run-children.h"
#include "run.h"
#include "summary.h"
#include "usage.h"

/* ------------------------------------------------------------------ */
/* Our own dashboard (--live)                                          */
/* ------------------------------------------------------------------ */

/* The dashboard runs on a thread of its own, talking to our live server
 * through a socketpair like any other: replay never waits on drawing. */
struct dashboard {
	struct tui *tui;		/* the terminal, NULL with --batch */
	const struct live_options *lv;
	int sock[2];			/* ours (the server's), the dashboard's */
	pthread_t thread;
	int running;			/* the thread was started and not joined */
	int done;			/* atomic: the user left it */
	int announced;			/* we said so */
	int failed;			/* it ended on an error */
	pid_t pid;			/* the program */
};

static void *dashboard_thread(void *arg)
{
	struct dashboard *d = arg;
	int ret;

	if (d->lv->batch)
		ret = live_batch(d->sock[1], d->lv, stdout);
	else
		ret = tui_run(d->tui, d->sock[1], d->lv);
	d->sock[1] = -1;	/* closed by them */
	d->failed = ret != 0;
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int dashboard_start(struct dashboard *d, struct live_server *server, const struct run_options *o,
			   pid_t pid)
{
	d->lv = &o->lv;
	d->pid = pid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, d->sock) < 0)
		return -1;
	if (live_server_add(server, d->sock[0]) < 0) {
		close(d->sock[1]);
		d->sock[0] = d->sock[1] = -1;
		return -1;
	}
	d->sock[0] = -1;	/* the server's now */
	if (pthread_create(&d->thread, NULL, dashboard_thread, d) != 0) {
		close(d->sock[1]);
		d->sock[1] = -1;
		return -1;
	}
	d->running = 1;
	return 0;
}

/* From the replay loop: say once that the user left the dashboard early. */
static void dashboard_check(struct dashboard *d)
{
	if (!d->running || d->announced || !__atomic_load_n(&d->done, __ATOMIC_ACQUIRE))
		return;
	d->announced = 1;
	if (!d->lv->batch)
		note("dashboard closed; the program (pid %d) runs on and heapwise waits "
		     "for it (`heapwise live %d` to watch it again)", (int)d->pid, (int)getpid());
}

/* Wait for the user to leave the dashboard (it shows the end meanwhile). */
static void dashboard_finish(struct dashboard *d)
{
	if (!d->running)
		return;
	pthread_join(d->thread, NULL);
	d->running = 0;
}

void run_say_corrupted(const struct collector *c, pid_t pid)
{
	warning("the program (pid %d) corrupted heapwise's shared memory: %s; tracing stopped there, "
		"the program runs on, and its profile ends where the damage began", (int)pid,
		collector_corruption(c));
}

/*
 * Replay until the program exits; returns its wait status. The collector's
 * drain thread empties the rings meanwhile, so nothing here can make the
 * program wait.
 */
static int collect_until_exit(struct collector *c, pid_t pid, struct rusage *ru,
			      struct live_server *server, struct dashboard *d, struct run_children *ch)
{
	int status, said = 0;

	for (;;) {
		size_t n = collector_drain(c, 0);
		pid_t r;

		if (!said && collector_corruption(c)) {
			run_say_corrupted(c, pid);
			said = 1;
		}

		if (ch)
			n += (size_t)children_poll(ch);
		collector_tick(c, monotonic_ns());
		live_server_poll(server, c);
		dashboard_check(d);
		if (collector_reaped(c, &status))
			return status;	/* a scan saw it end, and collected it */
		r = wait4(pid, &status, WNOHANG, ru);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return 0;
		if (!n) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
}

/*
 * --error-exitcode: the exit status when the exit scan found leaks of the
 * kinds that count (or could not tell), else the program's.
 */
static int leak_status(const struct profile *p, const struct run_options *o, int status)
{
	const struct profile_snapshot *s = profile_find_snapshot((struct profile *)p, "exit");
	struct leak_analysis a;
	char found[256] = "";
	int leaked = 0, len = 0;

	if (!s || !s->scan) {
		const char *why = profile_get_meta(p, "scan-error");

		error("cannot tell whether the program leaked (--error-exitcode): %s",
		      why ? why : "there was no exit scan (the program replaced itself with exec, or left through a raw exit_group)");
		return o->error_exitcode;
	}
	if (leaks_analyze(s, &a) < 0) {
		error("out of memory");
		return o->error_exitcode;
	}
	for (int k = 0; k <= LEAK_REACHABLE; k++)
		if ((o->error_kinds & (1u << k)) && a.totals[k].blocks) {
			len += snprintf(found + len, sizeof(found) - len, "%s %s %llu blocks", leaked ? "," : "",
					leak_kind_name(k), (unsigned long long)a.totals[k].blocks);
			leaked = 1;
		}
	if (leaked)
		note("leaks found, exiting with %d (--error-exitcode):%s", o->error_exitcode, found);
	leaks_release(&a);
	return leaked ? o->error_exitcode : status;
}

/* One traced launch, from the fork to the profile. */
struct run {
	struct run_options *o;
	int argc;
	char **argv;
	char path[PATH_MAX];		/* the program, resolved */
	char tracer[PATH_MAX];		/* libheapwise.so */
	char output[PATH_MAX];		/* the profile */
	struct collector *c;
	struct run_children *children;	/* --follow-fork, else NULL */
	struct live_server *server;	/* NULL when dashboards cannot connect */
	struct dashboard d;
	pid_t pid;
	uint64_t t_fork, t_reaped;	/* CLOCK_MONOTONIC */
	struct rusage ru;		/* the program's, once reaped */
	int written;			/* the profile was written */
};

/*
 * Fork, and exec the program with the tracer in the child; wait until the
 * exec went through (the child reports an errno on a close-on-exec pipe
 * otherwise). Returns 0, or the exit status after saying why not (127 not
 * found, 126 not runnable, as shells do).
 */
static int start_program(struct run *r)
{
	int report[2], exec_err = 0, ret = 0;
	ssize_t n;

	if (pipe2(report, O_CLOEXEC) < 0)
		return error("cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	launch_forward_signals(!(r->o->live && !r->o->lv.batch));
	r->t_fork = monotonic_ns();
	r->pid = fork();
	if (r->pid < 0) {
		launch_restore_signals();
		ret = error("cannot fork: %s", strerror(errno));
		goto out;
	}
	if (r->pid == 0)
		launch_exec(r->c, r->o, r->tracer, r->path, r->argv, report[1]);
	launch_child_pid = r->pid;
	collector_start(r->c, r->pid, monotonic_ns());
	if ((n = collector_start_draining(r->c)) < 0) {
		/* replaying on this thread works too, only less smoothly */
		warning("cannot start the drain thread: %s", strerror((int)-n));
	}
	close(report[1]);
	report[1] = -1;
	while ((n = read(report[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(exec_err)) {
		char out[PATH_MAX];

		if (r->d.tui) {
			tui_close(r->d.tui);
			r->d.tui = NULL;
		}
		waitpid(r->pid, NULL, 0);
		launch_child_pid = 0;
		launch_restore_signals();
		if (exec_err < 0) {
			launch_output_path(r->o, r->path, r->pid, out);
			ret = error("cannot send the program's output to '%s': %s", out, strerror(-exec_err));
		} else {
			error("cannot run '%s': %s", r->path, strerror(exec_err));
			ret = exec_err == ENOENT ? 127 : 126;
		}
	}
out:
	close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	return ret;
}

/* Let dashboards in: ours (--live), and any `heapwise live PID`. */
static void open_to_dashboards(struct run *r)
{
	char err[PROFILE_ERRLEN], cmdline[PATH_MAX], out[PATH_MAX];

	if (live_server_new(&r->server, err) < 0) {
		warning("%s: `heapwise live %d` will not work", err, (int)r->pid);
		return;
	}
	launch_command_line(r->argv, r->argc, cmdline, sizeof(cmdline));
	live_server_set(r->server, "command", cmdline);
	live_server_set(r->server, "profile", r->output);
	for (size_t i = 0; i < r->o->lv.alloc_fns.n; i++)
		live_server_add_meta(r->server, SITE_ALLOC_FN_META, r->o->lv.alloc_fns.patterns[i]);
	if (r->o->live && (r->o->lv.program_output || !r->o->lv.batch)) {
		launch_output_path(r->o, r->path, r->pid, out);
		live_server_set(r->server, "output", out);
	}
	if (r->o->live && dashboard_start(&r->d, r->server, r->o, r->pid) < 0)
		warning("cannot start the dashboard: %s", strerror(errno));
}

/* Why an image could not map heapwise's region, into buf; NULL when none
 * said so. */
static const char *map_failure(const struct collector *c, char *buf, size_t len)
{
	int e = collector_attach_errno(c);

	if (!e)
		return NULL;
	snprintf(buf, len, "%s%s", strerror(e), e == ENOMEM ? " (its address-space limit, RLIMIT_AS, is too low)" : "");
	return buf;
}

static uint64_t rusage_cpu_ns(const struct rusage *ru)
{
	return ((uint64_t)ru->ru_utime.tv_sec + (uint64_t)ru->ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru->ru_utime.tv_usec + (uint64_t)ru->ru_stime.tv_usec) * 1000ull;
}

/* What the run cost in CPU: the program's (reaped, with the children it
 * waited for) and ours, every thread of this process up to now. */
static void set_cpu_meta(struct profile *p, const struct rusage *program)
{
	struct rusage self;

	profile_set_meta_u64(p, PROFILE_META_PROGRAM_CPU, rusage_cpu_ns(program));
	if (getrusage(RUSAGE_SELF, &self) == 0)
		profile_set_meta_u64(p, PROFILE_META_HEAPWISE_CPU, rusage_cpu_ns(&self));
}

/*
 * The program ended with status: build the profile, write it, tell the
 * dashboards, print the summary. Returns heapwise's exit status: the
 * program's, or --error-exitcode's, or EXIT_ERROR when the profile could
 * not be written.
 */
static int finish(struct run *r, int status)
{
	struct collector_build_times bt;
	char err[PROFILE_ERRLEN], untraced[PATH_MAX], unmapped[128];
	struct profile p;
	uint64_t t0, t1;
	int ret = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);

	if (!collector_attached(r->c) && map_failure(r->c, unmapped, sizeof(unmapped)))
		warning("the program was never traced: it could not map heapwise's shared memory: %s", unmapped);
	else if (!collector_attached(r->c))
		warning("the program was never traced: the tracer did not attach (see HEAPWISE_DEBUG=1 "
			"in heapwise-run(1))");
	if (profile_init(&p) < 0) {
		error("out of memory");
		return ret;
	}
	launch_set_meta(&p, r->argv, r->argc, r->path);
	if (alloc_fns_apply(&r->o->lv.alloc_fns, &p) != 0) {
		profile_release(&p);
		return ret;
	}
	t0 = monotonic_ns();
	debug("the program ran %.3f s (CPU %.3f s user, %.3f s system); replay ended %.3f s after it",
	      (double)(r->t_reaped - r->t_fork) / 1e9,
	      r->ru.ru_utime.tv_sec + r->ru.ru_utime.tv_usec / 1e6,
	      r->ru.ru_stime.tv_sec + r->ru.ru_stime.tv_usec / 1e6, (double)(t0 - r->t_reaped) / 1e9);
	if (collector_build_profile(r->c, &p, err) < 0)
		goto lost;
	if (collector_untraced_exec(r->c, untraced, sizeof(untraced))) {
		profile_set_meta(&p, "untraced-exec", untraced);
		if (map_failure(r->c, unmapped, sizeof(unmapped)))
			warning("the program exec'd '%s', which could not map heapwise's shared memory: %s: "
				"the profile ends at the exec", untraced, unmapped);
		else
			warning("the program exec'd '%s', which heapwise could not trace (a static or set-user-ID "
				"program, or one started without LD_PRELOAD, as env -i does): the profile ends at the exec",
				untraced);
	}
	t1 = monotonic_ns();
	set_cpu_meta(&p, &r->ru);
	collector_build_times(r->c, &bt);
	debug("%zu frames symbolized in %.3f s, snapshots cut in %.3f s%s", bt.frames,
	      (double)bt.symbolize_ns / 1e9, (double)bt.snapshots_ns / 1e9, bt.side_by_side ? " (side by side)" : "");
	if (profile_write(&p, r->output, err) < 0)
		goto lost;
	live_server_profile_written(r->server, 1, r->output);
	r->written = 1;
	debug("profile built in %.3f s, written in %.3f s; heapwise's peak RSS %ld KiB",
	      (double)(t1 - t0) / 1e9, (double)(monotonic_ns() - t1) / 1e9, proc_status(getpid(), "VmHWM"));
	/* the dashboard shows the end until the user quits it; then the summary */
	dashboard_finish(&r->d);
	if (!r->o->quiet) {
		summary_print(stderr, &p, "heapwise: ", r->o->top);
		note("profile written to %s", r->output);
	}
	if (r->o->error_exitcode && !WIFSIGNALED(status))
		ret = leak_status(&p, r->o, ret);
	profile_release(&p);
	return ret;
lost:
	/* the profile is what heapwise is for: losing it is heapwise's failure */
	error("the profile is lost: %s", err);
	live_server_profile_written(r->server, 0, err);
	profile_release(&p);
	return EXIT_ERROR;
}

/*
 * Before the program runs: can its profile be written where it is to go?
 * (The default name holds the program's pid, not known yet: ours stands in
 * for it.) 0, or EXIT_ERROR after saying why not.
 */
static int check_output(struct run *r)
{
	char err[PRIVFILE_ERRLEN], path[PATH_MAX];

	if (r->o->output)
		snprintf(path, sizeof(path), "%s", r->o->output);
	else
		snprintf(path, sizeof(path), "heapwise.%s.%d.hws", basename(r->path), (int)getpid());
	if (privfile_check(path, err) < 0)
		return error("%s (the program was not run)", err);
	return 0;
}

int run_program(struct run_options *o, int argc, char **argv)
{
	struct run r = { .o = o, .argc = argc, .argv = argv, .d = { .sock = { -1, -1 } } };
	char err[PROFILE_ERRLEN];
	int status, ret;

	o->lv.launched = 1;	/* a dashboard of ours saw the program start */
	ret = launch_find_program(argv[0], r.path);
	if (ret < 0) {
		error("cannot run '%s': %s", argv[0], strerror(-ret));
		return ret == -ENOENT ? 127 : 126;
	}
	if (launch_check_program(r.path) || launch_find_tracer(r.tracer))
		return EXIT_ERROR;
	if (o->live && !o->lv.batch && tui_open(&r.d.tui))
		return EXIT_ERROR;
	if ((ret = check_output(&r)) != 0)
		goto out;
	if (collector_new(&r.c, &o->collect, err) < 0) {
		ret = error("%s", err);
		goto out;
	}
	if (o->follow_fork)
		collector_follow_forks(r.c);	/* before its first fork */
	if ((ret = start_program(&r)) != 0)
		goto out;
	if (o->output)
		snprintf(r.output, sizeof(r.output), "%s", o->output);
	else
		snprintf(r.output, sizeof(r.output), "heapwise.%s.%d.hws", basename(r.path), (int)r.pid);
	if (o->follow_fork && children_new(&r.children, o, r.c, r.pid, r.output) != 0)
		warning("children will run untraced");
	open_to_dashboards(&r);
	status = collect_until_exit(r.c, r.pid, &r.ru, r.server, &r.d, r.children);
	r.t_reaped = monotonic_ns();
	launch_child_pid = 0;
	launch_restore_signals();
	if (r.children)
		children_program_ended(r.children);
	collector_finish(r.c, status, (uint64_t)r.ru.ru_maxrss * 1024, r.t_reaped);
	live_server_program_ended(r.server, r.c);
	ret = finish(&r, status);
	if (r.children) {
		children_wait(r.children);
		if (children_lost(r.children))
			ret = EXIT_ERROR;	/* said */
		if (o->error_exitcode && children_leaked(r.children) && !WIFSIGNALED(status)) {
			note("a child leaked, exiting with %d (--error-exitcode)", o->error_exitcode);
			ret = o->error_exitcode;
		}
	}
out:
	children_free(r.children);
	if (!r.written)
		dashboard_finish(&r.d);
	live_server_free(r.server);
	if (r.c)
		collector_done(r.c);
	collector_free(r.c);
	if (r.d.tui)
		tui_close(r.d.tui);
	if (r.d.failed)
		ret = ret ? ret : EXIT_ERROR;
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct run_options o;
	int ret = run_parse_options(argc, argv, &o, 0);

	if (ret)
		return ret < 0 ? 0 : ret;
	return run_program(&o, argc - optind, argv + optind);
}
