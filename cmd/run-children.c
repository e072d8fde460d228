/*
 * run-children.c - `heapwise run --follow-fork` (see run-children.h).
 *
 * Each process of the tree that is to be traced asks for a region of its
 * own through the program's (report/collect/follow.c checks and answers);
 * here each one becomes a collector, replayed from the same loop as the
 * program's, and when the process is gone, a profile and a summary line.
 *
 * heapwise is not these processes' parent, so it cannot wait for them:
 * a process has ended when /proc says it is a zombie or gone, and its
 * exit status is known only if it was seen as a zombie (its parent
 * collects it). heapwise exits once the program and every traced child
 * have ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../report/analysis/leaks.h"
#include "../report/collect/collector.h"
#include "../report/profile/profile.h"
#include "../report/util/clock.h"
#include "../report/util/format.h"
#include "../report/util/proc.h"
#include "alloc-fns.h"
#include "launch.h"
#include "run-children.h"
#include "usage.h"

#define MAX_CHILDREN	64	/* traced at once, as the fork table holds */

struct child {
	pid_t pid;
	int said_corrupted;
	unsigned slot;			/* in the fork table */
	struct collector *c;
	unsigned images;		/* images attached when cmdline was read */
	char cmdline[PATH_MAX];
};

struct run_children {
	const struct run_options *o;
	struct collector *first;	/* the program's: it holds the fork table */
	pid_t pid;			/* the program */
	int program_ended;
	const char *output;		/* the program's profile; children's are OUTPUT.PID */
	struct child *kids[MAX_CHILDREN];
	size_t n;
	int leaked;			/* a child's exit scan found leaks that count */
	int lost;			/* a child's profile could not be written */
	unsigned refused_said;		/* children_refused when we last said so */
};

int children_new(struct run_children **out, const struct run_options *o, struct collector *first,
		 pid_t pid, const char *output)
{
	struct run_children *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return error("out of memory");
	ch->o = o;
	ch->first = first;
	ch->pid = pid;
	ch->output = output;
	collector_follow_forks(first);
	*out = ch;
	return 0;
}

/* What the process runs now, from /proc, arguments joined by spaces. */
static void read_cmdline(struct child *k)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)k->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, k->cmdline, sizeof(k->cmdline) - 1);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && k->cmdline[n - 1] == '\0')
		n--;
	k->cmdline[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (k->cmdline[i] == '\0')
			k->cmdline[i] = ' ';
	format_make_printable(k->cmdline, (size_t)n);	/* it is printed */
}

static struct collector *collector_of(struct run_children *ch, pid_t pid)
{
	if (pid == ch->pid)
		return ch->program_ended ? NULL : ch->first;
	for (size_t i = 0; i < ch->n; i++)
		if (ch->kids[i]->pid == pid)
			return ch->kids[i]->c;
	return NULL;
}

/* A process asks for a region: make it a collector, or refuse it. */
static void adopt(struct run_children *ch, const struct collector_child_request *req)
{
	char err[PROFILE_ERRLEN];
	struct collector *parent = req->fork_stamp ? collector_of(ch, req->ppid) : NULL;
	struct child *k = NULL;

	if (ch->n == MAX_CHILDREN || !(k = calloc(1, sizeof(*k))) ||
	    collector_new(&k->c, &ch->o->collect, err) < 0) {
		free(k);
		collector_answer_child(ch->first, req, NULL);
		return;
	}
	k->pid = req->pid;
	k->slot = req->slot;
	collector_adopt(k->c, k->pid);
	if (parent && collector_inherit(k->c, parent, req->fork_stamp) < 0)
		warning("out of memory: the scans of child %d do not know its parent's blocks", (int)k->pid);
	if (collector_answer_child(ch->first, req, k->c) < 0) {
		collector_free(k->c);
		free(k);
		return;
	}
	collector_start(k->c, k->pid, monotonic_ns());
	collector_start_draining(k->c);	/* without it, this loop replays it */
	read_cmdline(k);
	ch->kids[ch->n++] = k;
}

/* One line for a child: what it did, what it leaked, where its profile went. */
static void say_child(struct run_children *ch, const struct child *k, const struct profile *p,
		      const char *output)
{
	const struct profile_snapshot *s = profile_find_snapshot((struct profile *)p, "exit");
	const struct profile_totals *t = &p->totals;
	char a[64], b[64], leaks[160] = "";
	struct leak_analysis la;

	if (s && s->scan && leaks_analyze(s, &la) == 0) {
		format_bytes(la.totals[LEAK_DEFINITE].bytes, a, sizeof(a));
		snprintf(leaks, sizeof(leaks), ", definitely lost %s in %llu blocks", a,
			 (unsigned long long)la.totals[LEAK_DEFINITE].blocks);
		for (int kind = 0; kind <= LEAK_REACHABLE; kind++)
			if ((ch->o->error_kinds & (1u << kind)) && la.totals[kind].blocks)
				ch->leaked = 1;
		leaks_release(&la);
	} else if (ch->o->error_exitcode) {
		ch->leaked = 1;	/* could not tell */
	}
	if (ch->o->quiet)
		return;
	format_bytes(t->bytes_allocated, a, sizeof(a));
	format_bytes(t->live_bytes, b, sizeof(b));
	note("child %d (%s): %llu allocations, %llu frees, %s allocated, %s in %llu blocks at exit%s; "
	     "profile written to %s", (int)k->pid, k->cmdline[0] ? k->cmdline : "?",
	     (unsigned long long)t->allocations, (unsigned long long)t->frees, a, b,
	     (unsigned long long)t->live_blocks, leaks, output);
}

/* The child's process is gone (wait status, or -1 unknown): its profile. */
static void finish_child(struct run_children *ch, struct child *k, int status)
{
	char err[PROFILE_ERRLEN], output[PATH_MAX + 16], ppid[32];
	struct profile p;

	collector_finish(k->c, status < 0 ? 0 : status, 0, monotonic_ns());
	collector_release_child(ch->first, k->slot);
	if (!collector_attached(k->c))
		return;
	snprintf(output, sizeof(output), "%s.%d", ch->output, (int)k->pid);
	if (profile_init(&p) < 0) {
		error("out of memory: no profile for child %d", (int)k->pid);
		ch->lost = 1;
		return;
	}
	profile_set_meta(&p, "command", k->cmdline);
	snprintf(ppid, sizeof(ppid), "%d", (int)ch->pid);
	profile_set_meta(&p, "followed-from", ppid);
	if (status < 0)
		profile_set_meta(&p, "exit-status", "unknown");
	if (alloc_fns_apply(&ch->o->lv.alloc_fns, &p) == 0 && collector_build_profile(k->c, &p, err) == 0 &&
	    profile_write(&p, output, err) == 0)
		say_child(ch, k, &p, output);
	else {
		error("child %d: the profile is lost: %s", (int)k->pid, err);
		ch->lost = 1;
	}
	profile_release(&p);
}

int children_poll(struct run_children *ch)
{
	struct collector_child_request req;
	unsigned refused;
	int work = 0;

	while (collector_next_child(ch->first, ch->pid, &req)) {
		adopt(ch, &req);
		work = 1;
	}
	for (size_t i = 0; i < ch->n;) {
		struct child *k = ch->kids[i];
		int status;

		work |= collector_drain(k->c, 0) != 0;
		if (!k->said_corrupted && collector_corruption(k->c)) {
			run_say_corrupted(k->c, k->pid);
			k->said_corrupted = 1;
		}
		collector_tick(k->c, monotonic_ns());
		if (collector_images(k->c) != k->images) {
			/* it exec'd: name it by what it runs now */
			k->images = collector_images(k->c);
			read_cmdline(k);
		}
		if (!collector_reaped(k->c, &status) && !proc_ended(k->pid, &status)) {
			i++;
			continue;
		}
		finish_child(ch, k, status);
		collector_done(k->c);
		collector_free(k->c);
		free(k);
		ch->kids[i] = ch->kids[--ch->n];
		work = 1;
	}
	refused = collector_children_refused(ch->first);
	if (refused != ch->refused_said) {
		warning("%u child processes ran untraced: more than %d were traced at once", refused,
			MAX_CHILDREN);
		ch->refused_said = refused;
	}
	return work;
}

void children_program_ended(struct run_children *ch)
{
	ch->program_ended = 1;
}

void children_wait(struct run_children *ch)
{
	uint64_t since = monotonic_ns();
	int said = 0;

	while (ch->n) {
		if (!children_poll(ch)) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
		if (!said && ch->n && monotonic_ns() - since > 2000000000ull && !ch->o->quiet) {
			note("the program ended; waiting for %zu traced child process%s (pid %d%s)", ch->n,
			     ch->n == 1 ? "" : "es", (int)ch->kids[0]->pid, ch->n > 1 ? ", ..." : "");
			said = 1;
		}
	}
}

int children_lost(const struct run_children *ch)
{
	return ch && ch->lost;
}

int children_leaked(const struct run_children *ch)
{
	return ch && ch->leaked;
}

void children_free(struct run_children *ch)
{
	if (!ch)
		return;
	for (size_t i = 0; i < ch->n; i++) {
		collector_release_child(ch->first, ch->kids[i]->slot);
		collector_done(ch->kids[i]->c);
		collector_free(ch->kids[i]->c);
		free(ch->kids[i]);
	}
	free(ch);
}
