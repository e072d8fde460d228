/*
 * stackmix.c - allocations from stacks that are awkward to walk fast, for
 * the unwinder's checks (t0205). Built with -O2 and without frame
 * pointers, so that most frames are RSP-based, unlike the other programs.
 *
 Each part allocates blocks of its own size from its own function and
 * leaks a known number of them (the rest are freed):
 *   recursion_alloc  1000 x 32 B at depths 1-60 that change every call; leaks 3
 *   alloca_alloc     1000 x 48 B under a frame whose size changes (alloca); leaks 4
 *   handler_alloc    300 x 64 B in a signal handler (raise), on the thread's stack; leaks 5
 *   altstack_alloc   300 x 80 B in a signal handler on an alternate stack; leaks 6
 *   coroutine_alloc  2 x 500 x 96 B on two ucontext stacks, switching between them; leaks 7
 *   longjmp_alloc    300 x 112 B after a longjmp out of a deep recursion; leaks 8
 *   shared_alloc     2 x 250 x 128 B, called in turn by twin_a and twin_b,
 *                    whose frames are alike; leaks 9 (5 by twin_a, 4 by twin_b)
 *   malloc_with_rbp  2 x 250 x 160 B, reached in turn through pad_a and pad_b
 *                    with the same stack pointer but another RBP (see
 *                    part_rbp); leaks 10 (5 through each)
 *   nocfi_alloc      200 x 176 B from a function without unwind tables,
 *                    RBP first a plausible frame record, then 0x10; leaks 11
 * The leaked blocks stay reachable (from a static array) but for one: the
 * 216 bytes malloc_with_rbp held in RBP while it allocated 24 bytes (freed)
 * are lost, though the tracer's memory of its last walk has that RBP.
 * 5105 allocations in all (with the alternate stack and the two coroutine
 * stacks), 64 blocks (7560 bytes) left at exit.
 *
 *   stackmix [PLUGIN]
 * With the path of build/progs/libplugin.so, also load, call and unload
 * it 5 times before the parts and 7 times after them (each load leaks its
 * constructor's 111 bytes): every dlclose makes the tracer drop what it
 * learnt about frames, and after 8 it walks with unw_backtrace only.
 */
#include <alloca.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static void *volatile leaked[64];	/* volatile: the stores stay, the blocks reachable */
static int nleaked;

/* Keep `leak` of the blocks made by one part, free the others. */
static void keep_or_free(void *p, int i, int leak)
{
	if (i < leak)
		leaked[nleaked++] = p;
	else
		free(p);
}

/* malloc, called (not jumped to): the function stays on the stack as the site */
#define block(size) ({ void *p_ = malloc(size); __asm__ volatile("" : : "r"(p_) : "memory"); p_; })

static unsigned next_random(void)
{
	static unsigned x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* ------------------------------------------------------------------ */

__attribute__((noinline)) static void *recursion_alloc(void)
{
	return block(32);
}

__attribute__((noinline)) static void *recurse(int depth)
{
	volatile int level = depth;	/* a frame per level: no loop made of it */
	void *p;

	if (depth == 0)
		return recursion_alloc();
	p = recurse(depth - 1);
	return level >= 0 ? p : NULL;
}

static void part_recursion(void)
{
	for (int i = 0; i < 1000; i++)
		keep_or_free(recurse(1 + (int)(next_random() % 60)), i, 3);
}

/* ------------------------------------------------------------------ */

__attribute__((noinline)) static void *alloca_alloc(void)
{
	return block(48);
}

__attribute__((noinline)) static void *under_alloca(size_t n)
{
	volatile char *scratch = alloca(n);
	void *p;

	scratch[0] = 1;
	scratch[n - 1] = 1;
	p = alloca_alloc();
	return scratch[0] ? p : NULL;
}

static void part_alloca(void)
{
	for (int i = 0; i < 1000; i++)
		keep_or_free(under_alloca(16 + next_random() % 4000), i, 4);
}

/* ------------------------------------------------------------------ */

static volatile int signal_round;
static void *volatile signal_block;	/* raise() is declared leaf: reread it */

__attribute__((noinline)) static void *handler_alloc(void)
{
	return block(64);
}

__attribute__((noinline)) static void *altstack_alloc(void)
{
	return block(80);
}

static void on_usr1(int sig)
{
	(void)sig;
	signal_block = handler_alloc();
}

static void on_usr2(int sig)
{
	(void)sig;
	signal_block = altstack_alloc();
}

static void part_signals(void)
{
	struct sigaction sa;
	stack_t ss;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 300; i++) {
		raise(SIGUSR1);
		keep_or_free(signal_block, i, 5);
	}

	ss.ss_sp = malloc(1 << 16);
	ss.ss_size = 1 << 16;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	for (int i = 0; i < 300; i++) {
		raise(SIGUSR2);
		keep_or_free(signal_block, i, 6);
	}
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(ss.ss_sp);
}

/* ------------------------------------------------------------------ */

static ucontext_t main_context, coroutine_context[2];
static void *volatile coroutine_block;

__attribute__((noinline)) static void *coroutine_alloc(void)
{
	return block(96);
}

static void coroutine_body(void)
{
	for (;;) {
		coroutine_block = coroutine_alloc();
		swapcontext(&coroutine_context[0], &main_context);
	}
}

static void other_coroutine_body(void)
{
	for (;;) {
		coroutine_block = coroutine_alloc();
		swapcontext(&coroutine_context[1], &main_context);
	}
}

static void part_coroutines(void)
{
	void *stacks[2];

	for (int c = 0; c < 2; c++) {
		stacks[c] = malloc(1 << 16);
		getcontext(&coroutine_context[c]);
		coroutine_context[c].uc_stack.ss_sp = stacks[c];
		coroutine_context[c].uc_stack.ss_size = 1 << 16;
		coroutine_context[c].uc_link = &main_context;
		makecontext(&coroutine_context[c], c ? other_coroutine_body : coroutine_body, 0);
	}
	for (int i = 0; i < 1000; i++) {
		swapcontext(&main_context, &coroutine_context[i & 1]);
		keep_or_free(coroutine_block, i, 7);
	}
	free(stacks[0]);
	free(stacks[1]);
}

/* ------------------------------------------------------------------ */

static jmp_buf escape;

__attribute__((noinline)) static void *longjmp_alloc(void)
{
	return block(112);
}

__attribute__((noinline)) static void dive(int depth)
{
	volatile int level = depth;

	if (depth == 0)
		longjmp(escape, 1);
	dive(depth - 1);
	if (level < 0)
		abort();
}

static void part_longjmp(void)
{
	for (int i = 0; i < 300; i++) {
		if (setjmp(escape) == 0)
			dive(1 + (int)(next_random() % 40));
		keep_or_free(longjmp_alloc(), i, 8);
	}
}

/* ------------------------------------------------------------------ */

__attribute__((noinline)) static void *shared_alloc(void)
{
	return block(128);
}

/* twin_a and twin_b: one body, so their frames are alike */
#define TWIN(name, mark)					\
	__attribute__((noinline)) static void *name(void)	\
	{							\
		volatile int m = mark;				\
		void *p = shared_alloc();			\
								\
		return m ? p : NULL;				\
	}

TWIN(twin_a, 1)
TWIN(twin_b, 2)

static void part_twins(void)
{
	for (int i = 0; i < 500; i++)
		keep_or_free(i & 1 ? twin_b() : twin_a(), i, 9);
}

/* ------------------------------------------------------------------ */

/*
 * malloc(size) from a frame that saves its caller's RBP and then holds
 * `rbp` in RBP. With a constant there, two calls can stand on the same
 * return address, stack pointer and RBP while their callers' RBPs differ:
 * only the saved RBP tells them apart.
 */
void *malloc_with_rbp(size_t size, uint64_t rbp);
__asm__(".text\n"
	".type malloc_with_rbp, @function\n"
	"malloc_with_rbp:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	movq %rsi, %rbp\n"
	"	call malloc@PLT\n"
	"	popq %rbp\n"
	"	.cfi_restore %rbp\n"
	"	.cfi_def_cfa_offset 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size malloc_with_rbp, .-malloc_with_rbp\n");

/* RBP-based (alloca): its RBP, not its stack pointer, leads to its caller */
__attribute__((noinline)) static void *framed(size_t n)
{
	volatile char *scratch = alloca(n);
	void *p;

	scratch[0] = 1;
	p = malloc_with_rbp(160, 0x5eed);
	return scratch[0] ? p : NULL;
}

/* pad_a and pad_b: one body, so their frames are alike */
#define PAD(name, mark)							\
	__attribute__((noinline)) static void *name(size_t pad, size_t n)	\
	{								\
		volatile char *scratch = alloca(pad);			\
		void *p;						\
									\
		scratch[0] = mark;					\
		p = framed(n);						\
		return scratch[0] ? p : NULL;				\
	}

PAD(pad_a, 1)
PAD(pad_b, 2)

/*
 * pad_a and pad_b have alike frames; with their alloca and framed's
 * adding up to the same bytes, malloc_with_rbp is called with the same stack
 * pointer both ways, but framed's RBP differs by 192 bytes.
 */
static void part_rbp(void)
{
	for (int i = 0; i < 500; i++)
		keep_or_free(i & 1 ? pad_b(256, 64) : pad_a(64, 256), i, 10);
}

/* ------------------------------------------------------------------ */

/*
 * No unwind tables here, and RBP holds what the caller says: libunwind
 * can only guess at this frame from RBP (and checks its guess), so the
 * tracer's own walk must not make a shape of it. The first calls give a
 * frame record that looks right, the later ones 0x10.
 */
void *nocfi_alloc(size_t size, const void *rbp);
__asm__(".text\n"
	".type nocfi_alloc, @function\n"
	"nocfi_alloc:\n"
	"	pushq %rbp\n"
	"	movq %rsi, %rbp\n"
	"	call malloc@PLT\n"
	"	popq %rbp\n"
	"	ret\n"
	".size nocfi_alloc, .-nocfi_alloc\n");

static void part_nocfi(void)
{
	volatile uint64_t record[2] = { 0, (uint64_t)(uintptr_t)part_nocfi + 16 };

	for (int i = 0; i < 200; i++)
		keep_or_free(nocfi_alloc(176, i < 100 ? (const void *)record : (const void *)0x10), i, 11);
}

/* ------------------------------------------------------------------ */

/* The last allocation of the run: nothing walks a stack after it. */
__attribute__((noinline)) static void part_lost_in_rbp(void)
{
	void *lost = malloc(216);

	free(malloc_with_rbp(24, (uint64_t)(uintptr_t)lost));
}

/* ------------------------------------------------------------------ */

static int part_plugins(const char *path, int times)
{
	for (int i = 0; i < times; i++) {
		void *h = dlopen(path, RTLD_NOW);
		void *(*work)(void);

		if (!h)
			return -1;
		work = (void *(*)(void))dlsym(h, "plugin_work");
		if (work)
			free(work());
		dlclose(h);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && part_plugins(argv[1], 5) < 0)
		return 2;
	part_recursion();
	part_alloca();
	part_signals();
	part_coroutines();
	part_longjmp();
	part_twins();
	part_rbp();
	part_nocfi();
	if (argc > 1 && part_plugins(argv[1], 7) < 0)
		return 2;
	part_lost_in_rbp();
	return nleaked == 63 ? 0 : 1;
}
