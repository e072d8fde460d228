/*
 * collector.c - the collector's life: the shared region it lays out for the
 * tracer, the program's start and end, the timeline ticks, and snapshots
 * asked for while the program runs. Draining and replaying are replay.c,
 * run snapshots runsnap.c, scans collector-scan.c, the profile build.c.
 *
 * This file does not print.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../../tracer/wire.h"
#include "../symbols/symbols.h"
#include "../symbols/symwarm.h"
#include "../util/clock.h"
#include "../util/format.h"
#include "../util/thread.h"
#include "collector-internal.h"
#include "collector.h"

#define RING_COUNT		512
#define RING_RECORDS		65536		/* 2 MiB per ring, touched only as used */
#define STACK_SLOTS		(1u << 20)	/* ids 1..STACK_SLOTS must fit LIVE_MAX_STACK */
#define FRAME_CAPACITY		(1ull << 23)
#define MODULE_CAPACITY		4096
#define CODE_CAPACITY		(32ull << 20)	/* bytes of Python code log (sparse until used) */

_Static_assert(STACK_SLOTS <= LIVE_MAX_STACK, "stack ids must fit a live_block");

static int fail(char err[PROFILE_ERRLEN], int ret, const char *what)
{
	snprintf(err, PROFILE_ERRLEN, "%s: %s", what, strerror(-ret));
	return ret;
}

/* ------------------------------------------------------------------ */
/* The region                                                          */
/* ------------------------------------------------------------------ */

/* Long: the region's layout, offset by offset, and the header the tracer
 * reads, field by field, as wire.h lists them. */
int collector_new(struct collector **out, const struct collector_options *opt,
		  char err[PROFILE_ERRLEN])
{
	struct collector *c = calloc(1, sizeof(*c));
	struct wire_header *h;
	uint64_t rings_off, records_off;
	int ret;

	if (!c)
		return fail(err, -ENOMEM, "cannot set up the collector");
	c->opt = *opt;
	c->cut_whole = 1;	/* the first run snapshot has no base */
	c->memfd = -1;
	c->statm_fd = -1;
	c->due_stamp = UINT64_MAX;

	rings_off = 4096;
	records_off = rings_off + RING_COUNT * sizeof(struct wire_ring);
	records_off = (records_off + 4095) & ~4095ull;
	c->size = records_off + (uint64_t)RING_COUNT * RING_RECORDS * sizeof(struct wire_record);
	uint64_t stacks_off = c->size;
	c->size += (uint64_t)STACK_SLOTS * sizeof(struct wire_stack);
	uint64_t frames_off = c->size;
	c->size += FRAME_CAPACITY * sizeof(uint64_t);
	uint64_t modules_off = c->size;
	c->size += (uint64_t)MODULE_CAPACITY * sizeof(struct wire_module);
	c->size = (c->size + 4095) & ~4095ull;
	uint64_t codes_off = c->size;
	c->size += CODE_CAPACITY;

	c->memfd = memfd_create("heapwise", MFD_CLOEXEC);
	if (c->memfd < 0) {
		ret = fail(err, -errno, "cannot create shared memory (memfd_create)");
		goto fail;
	}
	if (ftruncate(c->memfd, (off_t)c->size) < 0) {
		ret = fail(err, -errno, "cannot size shared memory");
		goto fail;
	}
	c->hdr = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->hdr == MAP_FAILED) {
		c->hdr = NULL;
		ret = fail(err, -errno, "cannot map shared memory");
		goto fail;
	}
	h = c->hdr;
	h->version = WIRE_VERSION;
	h->max_depth = opt->max_depth;
	h->total_size = c->size;
	h->ring_count = RING_COUNT;
	h->ring_records = RING_RECORDS;
	h->rings_offset = rings_off;
	h->records_offset = records_off;
	h->stacks_offset = stacks_off;
	h->stack_slots = STACK_SLOTS;
	h->frames_offset = frames_off;
	h->frame_capacity = FRAME_CAPACITY;
	h->modules_offset = modules_off;
	h->module_capacity = MODULE_CAPACITY;
	h->codes_offset = codes_off;
	h->code_capacity = CODE_CAPACITY;
	h->python_off = opt->python_off ? 1 : 0;
	h->python_native = opt->python_native ? 1 : 0;
	h->collector_pid = getpid();
	h->scan_at_exit = opt->scan_at_exit ? 1 : 0;
	h->sample_rate = opt->sample_rate;
	_Static_assert(PROFILE_MAX_SAMPLE_RATE == WIRE_MAX_SAMPLE_RATE, "one limit");
	h->traced_pid = -1;
	h->stamp = 1;
	wire_ring_at(h, 0)->state = WIRE_RING_OWNED;	/* the shared ring is never claimed */
	h->rings_used = 1;
	__atomic_store_n(&h->magic, WIRE_MAGIC, __ATOMIC_RELEASE);
	wiretables_init(&c->tables, h);
	c->rings = (struct ring_layout){ (struct wire_ring *)((char *)h + rings_off),
					 (struct wire_record *)((char *)h + records_off), RING_COUNT, RING_RECORDS };

	c->ring_seen = calloc(RING_COUNT, sizeof(*c->ring_seen));
	c->site_of_stack = calloc(STACK_SLOTS + 1, sizeof(*c->site_of_stack));
	c->sites_cap = 1024;
	c->sites = calloc(c->sites_cap, sizeof(*c->sites));
	c->nsites = 1;		/* sites[0]: allocations with no stack */
	c->recent_stamps = calloc((size_t)c->opt.temporary_threshold + 1, sizeof(*c->recent_stamps));
	if (!c->ring_seen || !c->site_of_stack || !c->sites || !c->recent_stamps) {
		ret = fail(err, -ENOMEM, "cannot set up the collector");
		goto fail;
	}
	c->window.base = 1;
	pthread_mutex_init(&c->queue_lock, NULL);
	*out = c;
	return 0;
fail:
	collector_free(c);
	return ret;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	collector_stop_draining(c);
	replay_release(c);
	if (c->hdr)
		munmap(c->hdr, c->size);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->statm_fd >= 0)
		close(c->statm_fd);
	collector_live_release(c);
	symbolizer_free(symwarm_finish(c->symwarm));
	free(c->samples);
	free(c->due);
	free(c->ring_seen);
	free(c->inherited);
	run_snapshots_release(c);
	free(c);
}

_Static_assert(COLLECTOR_MAX_DEPTH == WIRE_MAX_DEPTH, "the depth options allow is the wire's");

int collector_prepare_child(struct collector *c)
{
	char shm[64];

	__atomic_store_n(&c->hdr->traced_pid, getpid(), __ATOMIC_RELEASE);
	snprintf(shm, sizeof(shm), "/proc/%d/fd/%d", (int)getppid(), c->memfd);
	return setenv(WIRE_ENV_SHM, shm, 1) < 0 ? -ENOMEM : 0;
}

/* The symbols' warming thread follows the program's modules and frames
 * through these (symbols/ never reads the shared region itself). */
static int warm_next_module(void *arg, struct symwarm_module *out)
{
	const struct wiretables_module *m;

	if (!wiretables_next_module(arg, &m))
		return 0;
	*out = (struct symwarm_module){ m->path, m->image, m->bias, m->start, m->end };
	return 1;
}

static int warm_next_ip(void *arg, uint32_t *image, uint64_t *ip)
{
	return wiretables_next_frame(arg, image, ip);
}

void collector_start(struct collector *c, pid_t pid, uint64_t now_ns)
{
	char path[64];

	c->pid = pid;
	c->start_ns = now_ns;
	c->start_unix = (uint64_t)time(NULL);
	c->now_ns = now_ns;
	c->next_sample_ns = now_ns;
	c->interval_ns = c->opt.sample_interval_ns;
	c->next_snapshot_ns = now_ns + c->opt.snapshot_every_ns;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	c->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
	__atomic_store_n(&c->hdr->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
	if (!c->symwarm) {
		struct symwarm_source src = { warm_next_module, warm_next_ip, &c->warm_cursor };

		c->warm_cursor = (struct wiretables_cursor){ .t = &c->tables };
		c->symwarm = symwarm_start(&src);
	}
}

int collector_attached(const struct collector *c)
{
	return __atomic_load_n(&c->hdr->image, __ATOMIC_ACQUIRE) > 0;
}

int collector_attach_errno(const struct collector *c)
{
	int e = __atomic_load_n(&c->hdr->attach_errno, __ATOMIC_ACQUIRE);

	return e > 0 && e < 4096 ? e : 0;	/* the program's memory: a plausible errno or none */
}

unsigned collector_images(const struct collector *c)
{
	return __atomic_load_n(&c->hdr->image, __ATOMIC_ACQUIRE);
}

void collector_done(struct collector *c)
{
	__atomic_store_n(&c->hdr->collector_done, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* Ticks                                                               */
/* ------------------------------------------------------------------ */

void collector_tick(struct collector *c, uint64_t now_ns)
{
	c->now_ns = now_ns;
	samples_tick(c, now_ns);
	collector_scan_tick(c);
	collector_snapshot_tick(c, 0);
}

int collector_snapshot_now(struct collector *c, const char *name, int scan,
			   struct live_snapshot_info *info, char err[PROFILE_ERRLEN])
{
	const struct run_snapshot *s;
	size_t before;

	memset(info, 0, sizeof(*info));
	/* a periodic snapshot on its way is cut first, so the two keep their order */
	if (c->pending)
		collector_finish_pending(c, monotonic_ns() + 5000000000ull);
	before = c->nsnapshots;
	if (name && *name)
		snprintf(info->name, sizeof(info->name), "%s", name);
	else
		snprintf(info->name, sizeof(info->name), "snapshot-%zu", c->nsnapshots + 1);
	if (scan) {
		s = collector_scan(c, info->name, 0, 1);
		if (!s) {
			snprintf(err, PROFILE_ERRLEN, "%s", c->scan_error[0] ? c->scan_error : "the scan failed");
			return -EIO;
		}
		info->scanned = 1;
		info->stop_ns = s->scan_stop_ns;
		if (c->opt.count_kinds && collector_scan_kinds(s, c->opt.sample_rate, c->opt.count_kinds, info->kinds) < 0) {
			snprintf(err, PROFILE_ERRLEN, "out of memory while classifying the scan");
			return -ENOMEM;
		}
	} else {
		memcpy(c->pending_name, info->name, sizeof(c->pending_name));
		collector_schedule_snapshot(c);
		collector_finish_pending(c, monotonic_ns() + 5000000000ull);
		if (c->nsnapshots == before) {
			snprintf(err, PROFILE_ERRLEN, "out of memory while taking the snapshot");
			return -ENOMEM;
		}
		s = &c->snapshots[c->nsnapshots - 1];
	}
	info->t_ns = s->t_ns;
	info->sample_rate = c->opt.sample_rate;
	info->blocks = s->est_blocks;
	info->bytes = s->bytes;
	return 0;
}

pid_t collector_pid(const struct collector *c)
{
	return c->pid;
}

int collector_wait_status(const struct collector *c)
{
	return c->wait_status;
}

int collector_reaped(const struct collector *c, int *status)
{
	if (c->program_reaped)
		*status = c->program_status;
	return c->program_reaped;
}

const char *collector_scan_error(const struct collector *c)
{
	return c->scan_error[0] ? c->scan_error : NULL;
}

/* Did an image exec, with none attaching after it? Then its path (the
 * program's memory: read once, at the end, and cut to its field) into
 * c->untraced_exec. */
static void find_untraced_exec(struct collector *c)
{
	const struct wire_header *h = c->hdr;
	uint32_t from = __atomic_load_n(&h->exec_from_image, __ATOMIC_ACQUIRE);
	size_t n;

	c->untraced_exec[0] = '\0';
	if (!from || from != c->image || !c->image)
		return;
	for (n = 0; n < sizeof(h->exec_path) && h->exec_path[n]; n++)
		;
	snprintf(c->untraced_exec, sizeof(c->untraced_exec), "%.*s", (int)n, h->exec_path);
	format_make_printable(c->untraced_exec, strlen(c->untraced_exec));
	if (!c->untraced_exec[0])
		snprintf(c->untraced_exec, sizeof(c->untraced_exec), "(a program it did not name)");
}

int collector_untraced_exec(const struct collector *c, char *buf, size_t len)
{
	if (!c->untraced_exec[0])
		return 0;
	snprintf(buf, len, "%s", c->untraced_exec);
	return 1;
}

void collector_finish(struct collector *c, int wait_status, uint64_t maxrss_bytes, uint64_t now_ns)
{
	c->now_ns = now_ns;
	collector_stop_draining(c);
	collector_drain(c, 1);
	find_untraced_exec(c);
	if (c->untraced_exec[0]) {
		/* the image that exec'd is gone, its heap with it */
		collector_release_image(c);
		if (!c->scan_error[0])
			snprintf(c->scan_error, sizeof(c->scan_error),
				 "the program exec'd '%.200s', which heapwise could not trace", c->untraced_exec);
	}
	collector_snapshot_tick(c, 1);
	samples_take_last(c, now_ns);
	collector_done(c);
	c->wait_status = wait_status;
	c->end_ns = now_ns;
	if (maxrss_bytes > c->peak_rss)
		c->peak_rss = maxrss_bytes;
}
