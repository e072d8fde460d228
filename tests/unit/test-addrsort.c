/*
 * test-addrsort.c - sort_by_addr against qsort: random keys across the
 * heap's and the mmap area's addresses, keys already in order (returned
 * at once, untouched), in reverse, all equal, and records of the sizes the
 * collector sorts (profile blocks, live blocks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../report/util/addrsort.h"

struct record {
	uint64_t key;
	uint64_t payload[3];	/* 32 bytes in all, like a profile block */
};

static int by_key(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->payload[0] < y->payload[0] ? -1 : x->payload[0] > y->payload[0];
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* n records keyed by make_key(i), sorted both ways: same keys in the same order. */
static void check(size_t n, uint64_t (*make_key)(size_t, uint64_t *))
{
	struct record *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));
	uint64_t seed = 88172645463325252ull;

	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		a[i] = (struct record){ make_key(i, &seed), { i, ~i, i * 3 } };
	memcpy(b, a, n * sizeof(*a));
	assert_int_equal(sort_by_addr(a, n, sizeof(*a)), 0);
	qsort(b, n, sizeof(*b), by_key);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].key, b[i].key);
		/* each record moved whole */
		assert_int_equal(a[i].payload[1], ~a[i].payload[0]);
		assert_int_equal(a[i].payload[2], a[i].payload[0] * 3);
	}
	free(a);
	free(b);
}

static uint64_t heap_and_mmap(size_t i, uint64_t *seed)
{
	uint64_t base = (i & 1) ? 0x7f0000000000ull : 0x555555550000ull;

	return base + (next_random(seed) % (1ull << 34) & ~15ull);
}

static uint64_t in_order(size_t i, uint64_t *seed)
{
	(void)seed;
	return 0x555555550000ull + i * 16;
}

static uint64_t reversed(size_t i, uint64_t *seed)
{
	(void)seed;
	return 0x7f0000000000ull - i * 48;
}

static uint64_t all_equal(size_t i, uint64_t *seed)
{
	(void)i;
	(void)seed;
	return 0x7f0000001000ull;
}

static uint64_t full_width(size_t i, uint64_t *seed)
{
	(void)i;
	return next_random(seed);
}

static void random_keys(void **state)
{
	(void)state;
	check(200000, heap_and_mmap);
	check(100000, full_width);
	check(1, heap_and_mmap);
	check(0, heap_and_mmap);
}

static void ordered_reversed_equal(void **state)
{
	(void)state;
	check(100000, in_order);
	check(100000, reversed);
	check(1000, all_equal);
}

/* Live blocks are 24 bytes. */
static void other_record_size(void **state)
{
	uint64_t seed = 1, *a = calloc(3 * 5000, sizeof(*a));

	(void)state;
	assert_non_null(a);
	for (size_t i = 0; i < 5000; i++) {
		a[3 * i] = heap_and_mmap(i, &seed);
		a[3 * i + 1] = a[3 * i] ^ 0xabcdef;
		a[3 * i + 2] = i;
	}
	assert_int_equal(sort_by_addr(a, 5000, 3 * sizeof(*a)), 0);
	for (size_t i = 0; i < 5000; i++) {
		if (i)
			assert_true(a[3 * (i - 1)] <= a[3 * i]);
		assert_int_equal(a[3 * i + 1], a[3 * i] ^ 0xabcdef);
	}
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_keys),
		cmocka_unit_test(ordered_reversed_equal),
		cmocka_unit_test(other_record_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
