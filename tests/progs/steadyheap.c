/*
 * steadyheap.c - a heap that stays the same size while a few of its blocks
 * are replaced: `blocks` blocks of 16-200 bytes from ten call sites, then
 * `rounds` rounds 20 ms apart, each freeing and reallocating `churn`
 * blocks in a thousand (1 unless told). What periodic snapshots of a
 * long-running server look like.
 *   steadyheap [blocks [rounds [churn]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *site0(size_t n) { return malloc(n); }
static void *site1(size_t n) { return malloc(n); }
static void *site2(size_t n) { return malloc(n); }
static void *site3(size_t n) { return malloc(n); }
static void *site4(size_t n) { return malloc(n); }
static void *site5(size_t n) { return malloc(n); }
static void *site6(size_t n) { return malloc(n); }
static void *site7(size_t n) { return malloc(n); }
static void *site8(size_t n) { return malloc(n); }
static void *site9(size_t n) { return malloc(n); }

static void *(*const sites[10])(size_t) = {
	site0, site1, site2, site3, site4, site5, site6, site7, site8, site9,
};

static unsigned long next = 1;

static unsigned pick(void)
{
	next = next * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)(next >> 33);
}

static void *one(void)
{
	unsigned r = pick();

	return sites[r % 10](16 + (r >> 8) % 185);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 150;
	size_t churn = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	struct timespec pause = { 0, 20000000 };
	void **b = calloc(n ? n : 1, sizeof(*b));

	if (!b)
		return 1;
	for (size_t i = 0; i < n; i++)
		b[i] = one();
	for (int r = 0; r < rounds; r++) {
		for (size_t k = 0; k < n * churn / 1000; k++) {
			size_t i = pick() % n;

			free(b[i]);
			b[i] = one();
		}
		nanosleep(&pause, NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(b[i]);
	free(b);
	return 0;
}
