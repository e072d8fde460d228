/*
 * symwarm.c - read the program's symbols while it runs (see symwarm.h).
 *
 * The thread owns its symbolizer until symwarm_finish() joins it; nobody
 * else touches the symbolizer meanwhile. It reads only ready entries of
 * the append-only module log, which never change once ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../tracer/wire.h"
#include "symbols.h"
#include "symwarm.h"

#define WARM_PERIOD_NS	(10 * 1000000L)	/* how often the module log is looked at */
#define WARM_NICE	10		/* below the program and the replay */

struct symwarm {
	struct wire_header *hdr;
	struct symbolizer *sym;
	uint32_t modules_done;		/* log entries before this one are added */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;			/* under lock */
};

/* Add the log's new ready entries; 1 when any was added. */
static int add_new_modules(struct symwarm *w)
{
	struct wire_header *h = w->hdr;
	struct wire_module *log = wire_modules(h);
	uint32_t used = __atomic_load_n(&h->modules_used, __ATOMIC_ACQUIRE);
	int added = 0;

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
		added = 1;
	}
	return added;
}

static void *warm_thread(void *arg)
{
	struct symwarm *w = arg;

	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WARM_NICE);
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;

		pthread_mutex_unlock(&w->lock);
		if (add_new_modules(w))
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
	sigset_t all, old;
	int ret;

	if (!w)
		return NULL;
	w->hdr = h;
	if (symbolizer_new(&w->sym) < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	/* the thread must never take a signal meant for heapwise */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&w->thread, NULL, warm_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
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
