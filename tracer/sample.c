/*
 * sample.c - run --sample-rate: which allocations are recorded, and which
 * frees must be sent.
 *
 * Each thread counts down the bytes it allocates; the allocation that
 * takes the count to zero or below is recorded, and a new count is drawn
 * from an exponential distribution of mean sample_rate. Bytes are then
 * hw_sampled as a Poisson process, as tcmalloc's and jemalloc's heap
 * profilers do: a block of size s is recorded with probability
 * 1 - exp(-s / rate), whatever came before it, so a large block is nearly
 * always caught and a report can weigh each block by the inverse of that
 * probability for an unbiased estimate (profile_sample_weight).
 *
 * An allocation that is not recorded costs the countdown and nothing
 * else: no stamp, no stack. Its free must not be sent either, or every
 * free would still cost a record. So the addresses of recorded blocks
 * live in one open-addressed table shared by all threads (lock-free: a
 * slot goes from empty or gone to an address by CAS, and back to gone by
 * CAS); a free looks its address up, which for an address never recorded
 * usually ends at the first slot. A block that finds no slot within
 * SAMPLED_PROBES makes the table give up: from then on every free is
 * sent, and the collector ignores the frees of blocks it never saw. Exact
 * either way.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tracer.h"

#define SAMPLED_SLOTS	(1u << HW_SAMPLED_BITS)	/* 2 MiB of slots */
#define SAMPLED_PROBES	64
#define SLOT_EMPTY	0
#define SLOT_GONE	1			/* a removed address: probes go on past it */

uint64_t *hw_sampled;		/* the table; NULL when it could not be made */
int hw_sampled_full;		/* 1: a block found no slot; every free is sent */

/*
 * In front of the table, small enough to stay in L1: how many recorded
 * blocks live in each stretch of 2^(HW_SAMPLED_BITS - HW_FILTER_BITS) slots. A
 * free whose stretch counts none (nearly every free, when recorded blocks
 * are few) never touches the table, whose lines would miss the cache
 * (20% of a hw_sampled run's time on bench (b) before this). A block is
 * counted before it enters the table and uncounted after it leaves.
 */
uint32_t hw_sample_filter[1u << HW_FILTER_BITS];

/* A slot holds an address inverted: the exit scan reads this memory too,
 * and a table of plain addresses would make every recorded block
 * reachable. (~addr is never EMPTY or GONE.) */
static inline uint64_t hidden(uint64_t addr)
{
	return ~addr;
}

static uint64_t next_random(struct thread_state *t)
{
	/* xorshift64*: a thread's own stream, good enough to space samples */
	uint64_t x = t->sample_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->sample_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * ln(x) for x in [2^-53, 1], within 1e-10: not libm's, whose mapping
 * would cost a program under an address-space limit what it could have
 * had (t0182). x = m 2^e with m in [1, 2); ln m = 2 atanh((m-1)/(m+1)),
 * the series in t <= 1/3.
 */
static double natural_log(double x)
{
	union { double d; uint64_t u; } v = { x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double m, t, t2;

	v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	m = v.d;
	t = (m - 1) / (m + 1);
	t2 = t * t;
	return e * 0.69314718055994530942 +
	       2 * t * (1 + t2 * (1. / 3 + t2 * (1. / 5 + t2 * (1. / 7 + t2 * (1. / 9 + t2 * (1. / 11 +
	       t2 * (1. / 13 + t2 * (1. / 15 + t2 / 17))))))));
}

/* Bytes until the next recorded allocation: exponential, of mean rate. */
static int64_t draw(struct thread_state *t)
{
	double u = (double)((next_random(t) >> 11) + 1) * 0x1.0p-53;	/* in (0, 1] */
	double bytes = -natural_log(u) * (double)hw_layout.sample_rate;

	if (bytes < 1)
		return 1;
	return bytes > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)bytes;
}

int hw_sample_cross(struct thread_state *t, size_t size)
{
	if (!t->sample_rng) {
		/* a thread's first allocation: seed, and start its countdown */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->sample_rng = ((uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull) ^
				((uint64_t)syscall(SYS_gettid) << 32) ^ (uintptr_t)t ^ 1;
		t->sample_left = draw(t) - (int64_t)size;
		if (t->sample_left > 0)
			return 0;
	}
	t->sample_left = draw(t);
	return 1;
}

void hw_sample_keep(uint64_t addr)
{
	uint32_t i = hw_sample_slot(addr);
	uint64_t key = hidden(addr);

	if (!hw_sampled || hw_sampled_full)
		return;
	__atomic_fetch_add(&hw_sample_filter[i >> (HW_SAMPLED_BITS - HW_FILTER_BITS)], 1, __ATOMIC_RELEASE);
	for (unsigned n = 0; n < SAMPLED_PROBES; n++, i = (i + 1) & (SAMPLED_SLOTS - 1)) {
		uint64_t seen = __atomic_load_n(&hw_sampled[i], __ATOMIC_RELAXED);

		while (seen == SLOT_EMPTY || seen == SLOT_GONE) {
			if (__atomic_compare_exchange_n(&hw_sampled[i], &seen, key, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				return;
		}
	}
	__atomic_store_n(&hw_sampled_full, 1, __ATOMIC_RELEASE);
}

int hw_sample_forget(uint64_t addr)
{
	uint32_t home = hw_sample_slot(addr), i = home;
	uint64_t key = hidden(addr);

	if (!hw_sampled || __atomic_load_n(&hw_sampled_full, __ATOMIC_ACQUIRE))
		return 1;
	if (!__atomic_load_n(&hw_sample_filter[i >> (HW_SAMPLED_BITS - HW_FILTER_BITS)], __ATOMIC_ACQUIRE))
		return 0;
	for (unsigned n = 0; n < SAMPLED_PROBES; n++, i = (i + 1) & (SAMPLED_SLOTS - 1)) {
		uint64_t seen = __atomic_load_n(&hw_sampled[i], __ATOMIC_ACQUIRE);

		if (seen == SLOT_EMPTY)
			return 0;
		/* only this thread frees addr now: nobody else moves its slot */
		if (seen == key && __atomic_compare_exchange_n(&hw_sampled[i], &seen, SLOT_GONE, 0,
								__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_fetch_sub(&hw_sample_filter[home >> (HW_SAMPLED_BITS - HW_FILTER_BITS)], 1, __ATOMIC_RELEASE);
			return 1;
		}
	}
	/* not within the probes: never kept, unless the table gave up meanwhile */
	return __atomic_load_n(&hw_sampled_full, __ATOMIC_ACQUIRE);
}

void hw_sample_init(void)
{
	void *m;

	if (!hw_layout.sample_rate || hw_sampled)
		return;		/* a forked child keeps its parent's table: its blocks too */
	/* populated now, while the program may have one thread: a page read
	 * (the zero page) and then written costs a TLB shootdown of every
	 * other CPU the program runs on, 8% of bench (b)'s time sampled */
	m = mmap(NULL, SAMPLED_SLOTS * sizeof(*hw_sampled), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
	if (m != MAP_FAILED)
		hw_sampled = m;	/* else every free is sent */
}
