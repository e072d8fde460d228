/*
 * symwarm.c - read the program's symbols while it runs (see symwarm.h).
 *
 * The thread owns its symbolizer until symwarm_finish() joins it; nobody
 * else touches the symbolizer meanwhile. What the program mapped and what
 * its stacks hold come from the collector's source, one entry at a time.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../util/thread.h"
#include "symbols.h"
#include "symwarm.h"

#define WARM_PERIOD_NS	(10 * 1000000L)	/* how often the module log is looked at */
#define WARM_NICE	10		/* below the program and the replay */

struct symwarm {
	struct symwarm_source src;	/* the modules and frames to follow */
	struct symbolizer *sym;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;			/* under lock */
};

/* Add the objects mapped since last time. */
static void add_new_modules(struct symwarm *w)
{
	struct symwarm_module m;

	/* the build gives it its id later; a file it cannot read is remembered as such */
	while (w->src.next_module(w->src.arg, &m))
		symbolizer_add_module(w->sym, m.image, -1, m.path, m.bias, m.start, m.end);
}

/*
 * Which objects do the stacks added since last time pass through? Only
 * those are opened: a program may map many objects with large debug
 * information that no allocation ever comes from. The image a frame is
 * of is the source's guess (the newest is nearly always right, and a wrong
 * guess costs only time). Returns 1 when an object not wanted before is
 * wanted now.
 */
static int want_new_frames(struct symwarm *w)
{
	uint32_t image;
	uint64_t ip;
	int wanted = 0;

	while (w->src.next_ip(w->src.arg, &image, &ip))
		wanted |= symbolizer_want(w->sym, image, ip);
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

struct symwarm *symwarm_start(const struct symwarm_source *src)
{
	struct symwarm *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->src = *src;
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
