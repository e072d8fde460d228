/*
 * test-livetable.c - the live table against a plain array model, through
 * growth and the backward-shift deletions that keep clusters intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../report/collect/livetable.h"

static void insert_find_remove(void **state)
{
	struct livetable t = LIVETABLE_INIT;
	struct live_block b = { .addr = 0x1000, .size = 24, .stamp = 7, .stack = 3 }, out;

	(void)state;
	assert_int_equal(livetable_insert(&t, &b), 0);
	assert_int_equal(livetable_insert(&t, &b), -EEXIST);
	assert_non_null(livetable_find(&t, 0x1000));
	assert_int_equal(livetable_find(&t, 0x1000)->size, 24);
	assert_null(livetable_find(&t, 0x2000));
	assert_int_equal(livetable_remove(&t, 0x1000, &out), 0);
	assert_int_equal(out.stamp, 7);
	assert_int_equal(out.stack, 3);
	assert_int_equal(livetable_remove(&t, 0x1000, &out), -ENOENT);
	assert_int_equal(t.count, 0);
	livetable_release(&t);
}

/* Random inserts and removes of addresses that collide in the low bits,
 * checked against a model after every step. */
static void random_against_model(void **state)
{
	enum { N = 20000 };
	struct livetable t = LIVETABLE_INIT;
	uint64_t *model = calloc(N, sizeof(*model));	/* model[i]: size+1 of block i, 0 = free */
	unsigned seed = 12345;

	(void)state;
	for (int step = 0; step < 400000; step++) {
		unsigned i = (unsigned)rand_r(&seed) % N;
		uint64_t addr = 0x7f0000000000ull + (uint64_t)i * 4096;	/* same low bits */

		if (model[i]) {
			struct live_block out;

			assert_int_equal(livetable_remove(&t, addr, &out), 0);
			assert_int_equal(out.size + 1, model[i]);
			model[i] = 0;
		} else {
			struct live_block b = { .addr = addr, .size = (uint64_t)step };

			assert_int_equal(livetable_insert(&t, &b), 0);
			model[i] = (uint64_t)step + 1;
		}
		if (step % 50000 == 0) {
			size_t live = 0;

			for (unsigned k = 0; k < N; k++) {
				struct live_block *f = livetable_find(&t, 0x7f0000000000ull + (uint64_t)k * 4096);

				if (model[k]) {
					assert_non_null(f);
					assert_int_equal(f->size + 1, model[k]);
					live++;
				} else {
					assert_null(f);
				}
			}
			assert_int_equal(live, t.count);
		}
	}
	free(model);
	livetable_release(&t);
}

static size_t total_capacity(const struct livetable *t)
{
	size_t cap = 0;

	for (int i = 0; i < LIVETABLE_SEGMENTS; i++)
		cap += t->segments[i].capacity;
	return cap;
}

/* A heap that is freed down to a few blocks gives the table's memory
 * back, and what is left is still found, and can grow again. */
static void shrinks_when_emptied(void **state)
{
	enum { N = 200000, KEEP = 1000 };
	struct livetable t = LIVETABLE_INIT;
	size_t full;

	(void)state;
	for (uint64_t a = 1; a <= N; a++) {
		struct live_block x = { .addr = a * 32, .size = a };

		assert_int_equal(livetable_insert(&t, &x), 0);
	}
	full = total_capacity(&t);
	assert_true(full >= N);
	for (uint64_t a = KEEP + 1; a <= N; a++)
		assert_int_equal(livetable_remove(&t, a * 32, NULL), 0);
	assert_int_equal(t.count, KEEP);
	/* a segment stops shrinking at 4 * FIRST_CAPACITY (256) slots */
	assert_true(total_capacity(&t) <= LIVETABLE_SEGMENTS * 256 * 4);
	assert_true(total_capacity(&t) * 4 < full);
	for (uint64_t a = 1; a <= N; a++) {
		struct live_block *f = livetable_find(&t, a * 32);

		if (a <= KEEP) {
			assert_non_null(f);
			assert_int_equal(f->size, a);
		} else {
			assert_null(f);
		}
	}
	for (uint64_t a = KEEP + 1; a <= N; a++) {
		struct live_block x = { .addr = a * 32, .size = a };

		assert_int_equal(livetable_insert(&t, &x), 0);
	}
	assert_int_equal(t.count, N);
	assert_int_equal(livetable_find(&t, (uint64_t)N * 32)->size, N);
	livetable_release(&t);
}

/* Small segments are kept at most half full, large ones (1 MiB and more)
 * at most 70%: 2,000,000 blocks cross from one to the other, each block
 * found, and the memory stays under 24 bytes / 0.35 a block. */
static void load_by_size(void **state)
{
	enum { N = 2000000 };
	const size_t small = (1u << 20) / sizeof(struct live_block);
	struct livetable t = LIVETABLE_INIT;
	int large = 0;

	(void)state;
	for (uint64_t a = 1; a <= N; a++) {
		struct live_block x = { .addr = a * 48, .size = a };

		assert_int_equal(livetable_insert(&t, &x), 0);
		if (a == N / 64 || a == N) {
			for (int i = 0; i < LIVETABLE_SEGMENTS; i++) {
				const struct livetable_segment *g = &t.segments[i];

				if (g->capacity < small)
					assert_true(g->count * 2 <= g->capacity);
				else
					assert_true(g->count * 10 <= g->capacity * 7), large++;
			}
		}
	}
	assert_true(large > 0);
	assert_true(total_capacity(&t) * 35 <= (size_t)N * 100);
	for (uint64_t a = 1; a <= N; a += 997)
		assert_int_equal(livetable_find(&t, a * 48)->size, a);
	livetable_release(&t);
}

static void iterate_and_clear(void **state)
{
	struct livetable t = LIVETABLE_INIT;
	struct live_block *b;
	uint64_t sum = 0;
	size_t pos = 0, n = 0;

	(void)state;
	for (uint64_t a = 1; a <= 10000; a++) {
		struct live_block x = { .addr = a * 16, .size = a };

		assert_int_equal(livetable_insert(&t, &x), 0);
	}
	while ((b = livetable_next(&t, &pos))) {
		sum += b->size;
		n++;
	}
	assert_int_equal(n, 10000);
	assert_int_equal(sum, 10000ull * 10001 / 2);
	livetable_clear(&t);
	assert_int_equal(t.count, 0);
	assert_null(livetable_find(&t, 16));
	livetable_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(insert_find_remove),
		cmocka_unit_test(random_against_model),
		cmocka_unit_test(shrinks_when_emptied),
		cmocka_unit_test(load_by_size),
		cmocka_unit_test(iterate_and_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
