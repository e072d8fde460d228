/*
 * clock.h - the one clock heapwise times things with: CLOCK_MONOTONIC in
 * nanoseconds (immune to the wall clock being set; the same clock the
 * tracer stamps its heartbeat with).
 */
#ifndef HEAPWISE_CLOCK_H
#define HEAPWISE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
