/*
 * follow.c - --follow-fork, the collector's side of the fork table.
 *
 * Every process of the traced tree finds the first region through
 * HEAPWISE_SHM; one that is to be traced and has no region of its own
 * asks for one in that region's fork table (tracer/wire.h). Here the
 * requests are read, checked and answered; `heapwise run` makes each
 * child its own collector and profile.
 *
 * The table is the program's memory: a slot's pid is trusted only once
 * /proc says it is a live descendant of the traced program, and only one
 * slot may name a process. A child made by fork starts with its parent's
 * heap; those blocks are the parent's (counted in the parent's profile),
 * so the child's scans read them as roots and judge only its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "../../tracer/wire.h"
#include "../util/addrsort.h"
#include "../util/clock.h"
#include "../util/proc.h"
#include "collector-internal.h"

#define ANCESTRY_MAX		64			/* parents followed up to the program */
#define INHERIT_CATCH_UP_NS	(1000ull * 1000000ull)	/* longest we replay the parent for it */

void collector_follow_forks(struct collector *c)
{
	__atomic_store_n(&c->hdr->follow_fork, 1, __ATOMIC_RELEASE);
}

void collector_adopt(struct collector *c, pid_t pid)
{
	__atomic_store_n(&c->hdr->traced_pid, pid, __ATOMIC_RELEASE);
}

/* Is pid alive and below ancestor in the process tree? */
static int descends_from(pid_t pid, pid_t ancestor)
{
	pid_t p = pid;

	for (int i = 0; i < ANCESTRY_MAX && p > 1; i++) {
		p = proc_parent(p);
		if (p == ancestor)
			return 1;
	}
	return 0;
}

static void set_state(struct wire_child *slot, uint32_t state)
{
	__atomic_store_n(&slot->state, state, __ATOMIC_RELEASE);
	syscall(SYS_futex, &slot->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void free_slot(struct wire_child *slot)
{
	__atomic_store_n(&slot->state, WIRE_CHILD_FREE, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->pid, 0, __ATOMIC_RELEASE);
}

int collector_next_child(struct collector *c, pid_t ancestor, struct collector_child_request *req)
{
	struct wire_header *h = c->hdr;

	for (unsigned i = 0; i < WIRE_MAX_CHILDREN; i++) {
		struct wire_child *slot = &h->children[i];
		uint32_t state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
		pid_t pid = __atomic_load_n(&slot->pid, __ATOMIC_ACQUIRE);
		int twice = 0;

		if (state == WIRE_CHILD_ABANDONED) {
			free_slot(slot);
			continue;
		}
		if (state != WIRE_CHILD_REQUESTED)
			continue;
		for (unsigned k = 0; k < WIRE_MAX_CHILDREN; k++)
			if (k != i && __atomic_load_n(&h->children[k].pid, __ATOMIC_ACQUIRE) == pid)
				twice = 1;
		if (pid <= 0 || twice || !descends_from(pid, ancestor)) {
			if (pid <= 0 || kill(pid, 0) < 0)
				free_slot(slot);	/* nobody waits on it */
			else
				set_state(slot, WIRE_CHILD_REFUSED);
			continue;
		}
		*req = (struct collector_child_request){ .slot = i, .pid = pid, .ppid = proc_parent(pid),
							 .fork_stamp = __atomic_load_n(&slot->fork_stamp,
										       __ATOMIC_ACQUIRE) };
		return 1;
	}
	return 0;
}

int collector_answer_child(struct collector *c, const struct collector_child_request *req,
			   struct collector *child)
{
	struct wire_child *slot = &c->hdr->children[req->slot % WIRE_MAX_CHILDREN];
	uint32_t expect = WIRE_CHILD_REQUESTED;

	if (child)
		__atomic_store_n(&slot->fd, child->memfd, __ATOMIC_RELEASE);
	if (!__atomic_compare_exchange_n(&slot->state, &expect, child ? WIRE_CHILD_READY : WIRE_CHILD_REFUSED,
					 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (expect == WIRE_CHILD_ABANDONED)
			free_slot(slot);
		return -1;	/* it stopped waiting */
	}
	syscall(SYS_futex, &slot->state, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 0;
}

void collector_release_child(struct collector *c, unsigned slot)
{
	free_slot(&c->hdr->children[slot % WIRE_MAX_CHILDREN]);
}

unsigned collector_children_refused(const struct collector *c)
{
	return __atomic_load_n(&c->hdr->children_refused, __ATOMIC_ACQUIRE);
}

int collector_inherit(struct collector *child, struct collector *parent, uint64_t fork_stamp)
{
	uint64_t deadline = monotonic_ns() + INHERIT_CATCH_UP_NS;
	struct live_block *b;
	size_t pos = 0, n = 0;

	/* the parent's events before the fork: replayed, as far as they came */
	while (parent->window.base < fork_stamp && monotonic_ns() < deadline)
		if (!collector_drain(parent, 0)) {
			struct timespec nap = { 0, 1000000 };

			nanosleep(&nap, NULL);
		}
	free(child->inherited);
	child->ninherited = 0;
	child->inherited = malloc((parent->live.count + parent->ninherited + 1) * sizeof(*child->inherited));
	if (!child->inherited)
		return -ENOMEM;
	while ((b = livetable_next(&parent->live, &pos)))
		if (b->stamp < fork_stamp)
			child->inherited[n++] = (struct scan_block){ b->addr, b->size };
	/* and what the parent inherited itself, from its own parent */
	for (size_t i = 0; i < parent->ninherited; i++)
		child->inherited[n++] = parent->inherited[i];
	child->ninherited = n;
	return sort_by_addr(child->inherited, n, sizeof(*child->inherited));
}
