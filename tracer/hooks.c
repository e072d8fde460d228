/*
 * hooks.c - the allocator entry points libheapwise.so exports.
 *
 * On glibc the entry points do not funnel into each other, so each one is
 * hooked on its own and forwards to the real function found by dlsym.
 * Each hook passes straight through when tracing is off or when it is
 * reached from inside the tracer (the per-thread guard). C++ operator
 * new/delete reach us through malloc/free; malloc_usable_size needs no hook
 * since blocks keep the real allocator's layout.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/syscall.h>

#include "tracer.h"

#define EXPORT		__attribute__((visibility("default")))
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* A block came into being: say so as the caller's thread can. */
static inline void traced_alloc(void *p, size_t size, int fn)
{
	int how = hw_tracing();

	if (how == HW_TRACED) {
		if (unlikely(hw_py_pending))
			hw_py_install();
		hw_emit_alloc(p, size, fn);
	} else if (how == HW_FOREIGN) {
		hw_emit_foreign(p, size, fn, WIRE_REC_ALLOC);
	}
}

/* The real allocator is not known yet: we are inside dlsym's own calls. */
static inline int booting(void)
{
	if (unlikely(!hw_real.free))
		hw_bootstrap();
	return unlikely(!hw_real.free);
}

EXPORT void *malloc(size_t size)
{
	void *p;

	if (booting())
		return hw_bootstrap_alloc(size);
	p = hw_real.malloc(size);
	if (p)
		traced_alloc(p, size, WIRE_FN_MALLOC);
	return p;
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (booting() || !hw_real.calloc)
		return hw_bootstrap_alloc(bytes);	/* the pool is zeroed */
	p = hw_real.calloc(n, size);
	if (p)
		traced_alloc(p, bytes, WIRE_FN_CALLOC);
	return p;
}

EXPORT void free(void *p)
{
	if (!p || hw_in_bootstrap_pool(p))
		return;
	if (booting())
		return;
	switch (hw_tracing()) {
	case HW_TRACED:
		hw_emit_free(p, WIRE_FN_FREE);
		break;
	case HW_FOREIGN:
		hw_emit_foreign(p, 0, WIRE_FN_FREE, WIRE_REC_FREE);
		break;
	default:
		break;
	}
	hw_real.free(p);
}

void cfree(void *p);	/* gone from glibc headers; old programs still call it */
EXPORT void cfree(void *p)
{
	free(p);
}

/* A block from the bootstrap pool cannot be resized in place: copy it out. */
static void *realloc_from_pool(void *p, size_t size)
{
	void *q = malloc(size);

	if (q)
		memcpy(q, p, size);	/* the pool is larger than any block in it */
	return q;
}

/* realloc and reallocarray, once the size is known; fn tags the record. */
static void *resize(void *p, size_t size, int fn)
{
	void *q;

	if (booting())
		return hw_bootstrap_alloc(size);
	if (hw_in_bootstrap_pool(p))
		return realloc_from_pool(p, size);
	switch (hw_tracing()) {
	case HW_TRACED:
		break;
	case HW_FOREIGN:
		return hw_foreign_realloc(p, size, fn);
	default:
		return hw_real.realloc(p, size);
	}
	if (!p) {
		q = hw_real.realloc(NULL, size);
		if (q)
			hw_emit_alloc(q, size, fn);
		return q;
	}
	return hw_traced_realloc(p, size, fn);
}

EXPORT void *realloc(void *p, size_t size)
{
	return resize(p, size, WIRE_FN_REALLOC);
}

/* glibc's reallocarray calls realloc through the PLT; do its job here so
 * that one call is one event. */
EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return resize(p, bytes, WIRE_FN_REALLOCARRAY);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int ret;

	if (booting())
		return ENOMEM;
	ret = hw_real.posix_memalign(out, align, size);
	if (ret == 0 && *out)
		traced_alloc(*out, size, WIRE_FN_POSIX_MEMALIGN);
	return ret;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (booting())
		return NULL;
	p = hw_real.aligned_alloc(align, size);
	if (p)
		traced_alloc(p, size, WIRE_FN_ALIGNED_ALLOC);
	return p;
}

EXPORT void *memalign(size_t align, size_t size)
{
	void *p;

	if (booting())
		return NULL;
	p = hw_real.memalign(align, size);
	if (p)
		traced_alloc(p, size, WIRE_FN_MEMALIGN);
	return p;
}

EXPORT void *valloc(size_t size)
{
	void *p;

	if (booting())
		return NULL;
	p = hw_real.valloc(size);
	if (p)
		traced_alloc(p, size, WIRE_FN_VALLOC);
	return p;
}

/* pvalloc rounds the size up to whole pages (one page for 0); that rounded
 * size is what the program was given, and what valgrind counts too. */
EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	if (booting())
		return NULL;
	p = hw_real.pvalloc(size);
	if (p)
		traced_alloc(p, size ? (size + page - 1) & ~(page - 1) : page, WIRE_FN_PVALLOC);
	return p;
}

/*
 * dlopen must see its real caller: glibc resolves $ORIGIN and RUNPATH
 * against the object that called it. So the hook is a tail jump: mark the
 * module log dirty (the next traced event appends the new objects) and jump
 * to the real dlopen with the caller's return address untouched. With
 * RTLD_DEEPBIND (8), when the caller does not matter, the jump goes to
 * deepbind.c instead, which opens the library and binds it to our hooks.
 */
void *hw_resolve_dlopen(void);
void *hw_resolve_dlopen(void)
{
	extern void *hw_real_dlopen;

	hw_bootstrap();
	return hw_real_dlopen;
}

__asm__(
	".text\n"
	".globl dlopen\n"
	".type dlopen, @function\n"
	"dlopen:\n"
	"	movl $1, hw_modules_dirty(%rip)\n"
	"	testl $8, %esi\n"
	"	jz 2f\n"
	"	pushq %rdi\n"
	"	pushq %rsi\n"
	"	movq 16(%rsp), %rsi\n"
	"	subq $8, %rsp\n"
	"	call hw_deepbind_from_here\n"
	"	addq $8, %rsp\n"
	"	popq %rsi\n"
	"	popq %rdi\n"
	"	testl %eax, %eax\n"
	"	jnz hw_deepbind_dlopen\n"
	"2:	movq hw_real_dlopen(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	jmp *%rax\n"
	"1:	pushq %rdi\n"
	"	pushq %rsi\n"
	"	subq $8, %rsp\n"
	"	call hw_resolve_dlopen\n"
	"	addq $8, %rsp\n"
	"	popq %rsi\n"
	"	popq %rdi\n"
	"	jmp *%rax\n"
	".size dlopen, .-dlopen\n");

/* Before an object goes away, make sure the log has it: stacks that point
 * into it must still resolve at the end of the run. */
EXPORT int dlclose(void *handle)
{
	int ret;

	hw_bootstrap();
	if (hw_tracing() == HW_TRACED) {
		hw_thread.guard = 1;
		hw_log_modules();
		hw_thread.guard = 0;
	}
	ret = hw_real.dlclose(handle);
	hw_unwind_forget();
	if (hw_tracing() != HW_NOT_TRACED)
		hw_modules_dirty = 1;
	return ret;
}

/*
 * A program that ends with _exit skips the destructors; the exit scan
 * still happens. exit() reaches the kernel through glibc's internal alias
 * and never comes here: the destructor covers it.
 */
EXPORT void _exit(int status)
{
	hw_exit_scan();
	for (;;)
		syscall(SYS_exit_group, status);
}

EXPORT void _Exit(int status)
{
	_exit(status);
}
