/*
 * symwarm.c - read the program's symbols while it runs (see symwarm.h).
 *
 * The thread owns its symbolizer until symwarm_finish() joins it; nobody
 * else touches the symbolizer meanwhile. It reads only ready entries of
 * the append-only module log, which never change once ready, and the
 * append-only frame pool the stacks point into.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../../tracer/wire.h"
#include "../util/thread.h"
#include "symbols.h"
#include "symwarm.h"

#define WARM_PERIOD_NS	(10 * 1000000L)	/* how often the module log is looked at */
#define WARM_NICE	10		/* below the program and the replay */

struct symwarm {
	struct wire_header *hdr;
	struct symbolizer *sym;
	uint32_t modules_done;		/* log entries before this one are added */
	uint64_t frames_done;		/* frame pool entries before this one are looked at */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;			/* under lock */
};

/* Add the log's new ready entries. */
static void add_new_modules(struct symwarm *w)
{
	struct wire_header *h = w->hdr;
	struct wire_module *log = wire_modules(h);
	uint32_t used = __atomic_load_n(&h->modules_used, __ATOMIC_ACQUIRE);

	if (used > h->module_capacity)
		used = h->module_capacity;
	for (; w->modules_done < used; w->modules_done++) {
		struct wire_module *m = &log[w->modules_done];
		char path[WIRE_PATH_MAX];

		if (!__atomic_load_n(&m->ready, __ATOMIC_ACQUIRE))
			break;	/* being written: next time */
		memcpy(path, m->path, sizeof(path));
		path[sizeof(path) - 1] = '\0';
		/* the build gives it its id later; a file it cannot read is remembered as such */
		symbolizer_add_module(w->sym, m->image, -1, path, m->bias, m->start, m->end);
	}
}

/*
 * Which objects do the stacks added since last time pass through? Only
 * those are opened: a program may map many objects with large debug
 * information that no allocation ever comes from. The frame pool is
 * append-only, and a stack reserves its frames before writing them, so
 * a zero (no return address is 0) means "not written yet": we stop there
 * and come back. The pool does not say which image a frame is of; the
 * newest is nearly always right, and a wrong guess costs only time.
 * Returns 1 when an object not wanted before is wanted now.
 */
static int want_new_frames(struct symwarm *w)
{
	struct wire_header *h = w->hdr;
	const uint64_t *pool = wire_frames(h);
	uint64_t used = __atomic_load_n(&h->frames_used, __ATOMIC_ACQUIRE);
	uint32_t image = __atomic_load_n(&h->image, __ATOMIC_ACQUIRE);
	int wanted = 0;

	if (used > h->frame_capacity)
		used = h->frame_capacity;
	for (; w->frames_done < used; w->frames_done++) {
		uint64_t ip = __atomic_load_n(&pool[w->frames_done], __ATOMIC_RELAXED);

		if (!ip)
			break;
		wanted |= symbolizer_want(w->sym, image, ip);
	}
	return wanted;
}

static void *warm_thread(void *arg)
{
	struct symwarm *w = arg;

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WARM_NICE);
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;

		pthread_mutex_unlock(&w->lock);
		add_new_modules(w);
		if (want_new_frames(w))
			symbolizer_load(w->sym);
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WARM_PERIOD_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct symwarm *symwarm_start(struct wire_header *h)
{
	struct symwarm *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->hdr = h;
	if (symbolizer_new(&w->sym) < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (thread_start_quiet(&w->thread, warm_thread, w)) {
		symbolizer_free(w->sym);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

struct symbolizer *symwarm_finish(struct symwarm *w)
{
	struct symbolizer *sym;

	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	sym = w->sym;
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return sym;
}
