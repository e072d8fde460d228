/*
 * reach.c - a heap of known shape, for the reachability scan.
 *
 * `reach shapes` builds, then exits (the exit scan sees it):
 *   definitely lost  3 x 48 bytes (lose_plain), the XOR-hidden 112 bytes
 *                    (hide_by_xor), the owner of the tree (64), the cycle
 *                    member at the lowest address (memcheck's clique leader)
 *   indirectly lost  4 x 32 (the tree's leaves), the other cycle members
 *   possibly lost    96 bytes held only by a pointer 40 bytes into it
 *   still reachable  128 (global), 144 (static struct), 160 (thread-local),
 *                    176 (another thread's stack), the chain 208 -> 224 -> 240
 * `reach nothread` is the same without the thread (and its 176 bytes): the
 * dynamic loader then makes no block either, so every count must equal
 * memcheck's.
 * The cycle is three blocks of 80 bytes, each pointing at the next at
 * offset 16. No stdio: the C library then allocates nothing, so every block
 * in the profile is one of these and valgrind's numbers are comparable.
 *
 * `reach _exit` is `nothread` ending with _exit(0).
 *
 * `reach regs` keeps a 272-byte block only in r12 and a 288-byte block only
 * in xmm5 while it waits on stdin, for `heapwise snapshot --scan`.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct holder {
	int tag;
	void *ptr;
};

void *g_keep;				/* a global */
static struct holder g_struct;		/* a static struct */
static __thread void *t_keep;		/* thread-local (static TLS of the main thread) */
static uintptr_t g_hidden;		/* a pointer hidden by XOR: not a pointer */
static char *g_interior;		/* points 40 bytes into its block */
void *g_chain;				/* global -> 208 -> 224 -> 240 */
static int g_pipe[2];

static __attribute__((noinline)) void lose_plain(void)
{
	for (int i = 0; i < 3; i++) {
		char *volatile p = malloc(48);

		memset(p, 1, 48);
	}
}

static __attribute__((noinline)) void lose_tree(void)
{
	void **owner = malloc(64);

	memset(owner, 0, 64);
	for (int i = 0; i < 4; i++) {
		owner[i] = malloc(32);
		memset(owner[i], 0, 32);
	}
}

static __attribute__((noinline)) void lose_cycle(void)
{
	void **a = malloc(80), **b = malloc(80), **c = malloc(80);

	memset(a, 0, 80);
	memset(b, 0, 80);
	memset(c, 0, 80);
	a[2] = b;
	b[2] = c;
	c[2] = a;
}

static __attribute__((noinline)) void hide_by_xor(void)
{
	char *p = malloc(112);

	memset(p, 0, 112);
	g_hidden = (uintptr_t)p ^ 0x5a5a5a5a5a5a5a5aull;
}

static __attribute__((noinline)) void hold_interior(void)
{
	char *p = malloc(96);

	memset(p, 0, 96);
	g_interior = p + 40;
}

static __attribute__((noinline)) void hold_reachable(void)
{
	void **a, **b;

	g_keep = malloc(128);
	memset(g_keep, 0, 128);
	g_struct.tag = 7;
	g_struct.ptr = malloc(144);
	memset(g_struct.ptr, 0, 144);
	t_keep = malloc(160);
	memset(t_keep, 0, 160);
	a = malloc(208);
	b = malloc(224);
	memset(a, 0, 208);
	memset(b, 0, 224);
	a[3] = b;
	b[5] = malloc(240);
	memset(b[5], 0, 240);
	g_chain = a;
}

/* A thread that keeps a block on its own stack, blocked until the end. */
static void *keeper(void *arg)
{
	void *volatile mine = malloc(176);
	char c;

	(void)arg;
	memset(mine, 0, 176);
	if (read(g_pipe[0], &c, 1) < 0)
		return NULL;
	return mine;
}

/* Wipe the stack below us, so no stale copy of a pointer survives. */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char junk[16384];

	memset((char *)junk, 0, sizeof(junk));
}

static int shapes(int with_thread)
{
	pthread_t t;

	if (pipe(g_pipe) < 0 || (with_thread && pthread_create(&t, NULL, keeper, NULL) != 0))
		return 1;
	lose_plain();
	lose_tree();
	lose_cycle();
	hide_by_xor();
	hold_interior();
	hold_reachable();
	scrub_stack();
	/* give the keeper time to allocate; it stays blocked on the pipe */
	usleep(100000);
	return 0;
}

/* Keep one block only in r12 and another only in xmm5, wait on stdin. */
static __attribute__((noinline)) int regs(void)
{
	void *a = malloc(272), *b = malloc(288);
	char c;
	long ret;

	memset(a, 0, 272);
	memset(b, 0, 288);
	if (write(1, "ready\n", 6) != 6)
		return 1;
	scrub_stack();	/* no copy below us either (the red zone is scanned) */
	/* read(0, &c, 1) by hand, with a in r12 and b in xmm5 and nowhere else */
	__asm__ volatile(
		"mov %[a], %%r12\n\t"
		"movq %[b], %%xmm5\n\t"
		"movq $0, %[a]\n\t"
		"movq $0, %[b]\n\t"
		"mov $0, %%eax\n\t"
		"mov $0, %%edi\n\t"
		"lea %[c], %%rsi\n\t"
		"mov $1, %%edx\n\t"
		"syscall\n\t"
		"mov %%r12, %[a]\n\t"
		"movq %%xmm5, %[b]\n\t"
		"xor %%r12d, %%r12d\n\t"
		"pxor %%xmm5, %%xmm5\n\t"
		: [a] "+m"(a), [b] "+m"(b), [c] "=m"(c), "=a"(ret)
		:
		: "rdi", "rsi", "rdx", "rcx", "r11", "r12", "xmm5", "memory");
	free(a);
	free(b);
	return ret == 1 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "regs") == 0)
		return regs();
	if (argc > 1 && strcmp(argv[1], "_exit") == 0) {
		shapes(0);
		_exit(0);	/* no destructors: the scan must happen all the same */
	}
	return shapes(!(argc > 1 && strcmp(argv[1], "nothread") == 0));
}
