/*
 * test-sampleweight.c - profile_sample_weight: exact when not sampled,
 * 1 block for a block far larger than the rate, about rate + s/2 bytes for
 * a small one; and unbiased: a countdown sampler as run --sample-rate's
 * (tracer/sample.c), run over known allocations, sums weights to the true
 * bytes and counts.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../report/profile/profile.h"

static void test_exact_and_limits(void **state)
{
	struct profile_weight w;

	(void)state;
	w = profile_sample_weight(0, 1234);
	assert_int_equal(w.bytes, 1234);
	assert_int_equal(w.blocks, 1);
	w = profile_sample_weight(4096, 1 << 30);	/* p = 1 to the last bit */
	assert_int_equal(w.bytes, 1 << 30);
	assert_int_equal(w.blocks, 1);
	w = profile_sample_weight(524288, 16);		/* s / (1 - exp(-s/R)) ~ R + s/2 */
	assert_true(w.bytes >= 524288 + 7 && w.bytes <= 524288 + 9);
	assert_true(w.blocks >= 32768 && w.blocks <= 32769);	/* R/s + 1/2 */
	w = profile_sample_weight(524288, 0);		/* cannot be weighed: itself */
	assert_int_equal(w.bytes, 0);
	assert_int_equal(w.blocks, 1);
}

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)((rng >> 11) + 1) * 0x1.0p-53;
}

/* n allocations of each size in turn, sampled at rate: estimate / truth
 * within tolerance (chosen at 4 standard deviations or more of the
 * estimate for these sample counts). */
static void check_unbiased(uint64_t rate, const uint64_t *sizes, size_t nsizes, uint64_t n, double tolerance)
{
	double left = -log(uniform()) * (double)rate, bytes = 0, blocks = 0, true_bytes = 0;

	for (uint64_t i = 0; i < n; i++)
		for (size_t k = 0; k < nsizes; k++) {
			left -= (double)sizes[k];
			true_bytes += (double)sizes[k];
			if (left > 0)
				continue;
			left = -log(uniform()) * (double)rate;
			bytes += (double)profile_sample_weight(rate, sizes[k]).bytes;
			blocks += (double)profile_sample_weight(rate, sizes[k]).blocks;
		}
	assert_true(fabs(bytes / true_bytes - 1) < tolerance);
	assert_true(fabs(blocks / (double)(n * nsizes) - 1) < tolerance);
}

static void test_unbiased(void **state)
{
	static const uint64_t small[] = { 16, 48 }, mixed[] = { 700, 9000, 300000 };

	(void)state;
	check_unbiased(4096, small, 2, 4000000, 0.02);		/* 62,500 samples */
	check_unbiased(65536, mixed, 3, 200000, 0.04);		/* 2,100 of the 700-byte blocks */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_limits),
		cmocka_unit_test(test_unbiased),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
