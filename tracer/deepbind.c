/*
 * deepbind.c - keep libraries opened with RTLD_DEEPBIND in front of us.
 *
 * A library opened with RTLD_DEEPBIND looks its symbols up in its own
 * dependencies before the global scope, so its malloc and free bind to
 * libc's and never reach the tracer: what it allocates is unseen, and a
 * block of the program's it frees looks leaked. So such a dlopen is made
 * from here, and afterwards the objects it loaded have their GOT slots for
 * the allocator's entry points (R_X86_64_JUMP_SLOT and GLOB_DAT naming an
 * undefined malloc, free, ...) pointed back at our hooks. A slot is only
 * rewritten while it still holds libc's function or a lazy binding stub:
 * a library that binds to an allocator of its own keeps it.
 *
 * dlopen resolves $ORIGIN, RPATH and RUNPATH, and picks the namespace,
 * from the object that called it. Called from here, the caller is
 * libheapwise.so, which changes nothing when the name holds a '/' and no
 * '$', or when the caller has no RPATH or RUNPATH of its own and lives in
 * the base namespace. Otherwise the hook jumps to the real dlopen as for
 * any other flag, and the library stays past the tracer (the README says
 * so). Allocations made while the library is loaded, by its constructors
 * among others, happen before its slots are rewritten and are not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "tracer.h"

extern void *hw_real_dlopen;

/* The entry points that must reach us: by name, ours and libc's. */
struct hook_slot {
	const char *name;
	void *ours;
	void *theirs;
};

static struct hook_slot hook_slots[] = {
	{ "malloc", (void *)malloc, NULL }, { "calloc", (void *)calloc, NULL },
	{ "realloc", (void *)realloc, NULL }, { "free", (void *)free, NULL },
	{ "cfree", NULL, NULL }, { "reallocarray", (void *)reallocarray, NULL },
	{ "posix_memalign", (void *)posix_memalign, NULL },
	{ "aligned_alloc", (void *)aligned_alloc, NULL }, { "memalign", (void *)memalign, NULL },
	{ "valloc", (void *)valloc, NULL }, { "pvalloc", (void *)pvalloc, NULL },
};
#define NHOOKS (sizeof(hook_slots) / sizeof(hook_slots[0]))

static int hooks_known;

static void know_hooks(void)
{
	if (__atomic_load_n(&hooks_known, __ATOMIC_ACQUIRE))
		return;
	for (size_t i = 0; i < NHOOKS; i++) {
		if (strcmp(hook_slots[i].name, "cfree") == 0)
			hook_slots[i].ours = (void *)free;	/* our cfree is free */
		hook_slots[i].theirs = dlsym(RTLD_NEXT, hook_slots[i].name);
	}
	__atomic_store_n(&hooks_known, 1, __ATOMIC_RELEASE);
}

static const struct hook_slot *hook_named(const char *name)
{
	for (size_t i = 0; i < NHOOKS; i++)
		if (strcmp(hook_slots[i].name, name) == 0)
			return &hook_slots[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Rewriting one object's slots                                        */
/* ------------------------------------------------------------------ */

struct object {
	uintptr_t bias, lo, hi;		/* load bias and mapped range */
	uintptr_t relro_lo, relro_hi;	/* whole pages the loader made read-only */
	const ElfW(Sym) *symtab;
	const char *strtab;
};

/* Write value into a slot, opening its page for the write if the loader
 * made it read-only (RELRO) and closing it again. */
static void write_slot(const struct object *o, uintptr_t slot, void *value)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), at = slot & ~(page - 1);
	int relro = slot >= o->relro_lo && slot < o->relro_hi;

	if (relro && mprotect((void *)at, page, PROT_READ | PROT_WRITE) < 0)
		return;
	__atomic_store_n((void **)slot, value, __ATOMIC_RELEASE);
	if (relro)
		mprotect((void *)at, page, PROT_READ);
}

static void rebind_table(const struct object *o, const ElfW(Rela) *rela, size_t bytes)
{
	for (size_t i = 0; i < bytes / sizeof(*rela); i++) {
		unsigned long type = ELF64_R_TYPE(rela[i].r_info);
		const ElfW(Sym) *sym;
		const struct hook_slot *hook;
		uintptr_t slot = o->bias + rela[i].r_offset;
		void *now;

		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
			continue;
		sym = &o->symtab[ELF64_R_SYM(rela[i].r_info)];
		if (sym->st_shndx != SHN_UNDEF || !(hook = hook_named(o->strtab + sym->st_name)))
			continue;
		if (slot < o->lo || slot + sizeof(void *) > o->hi)
			continue;
		now = *(void **)slot;
		/* libc's own, or a lazy stub in the object itself: ours instead */
		if (now != hook->ours &&
		    (now == hook->theirs || ((uintptr_t)now >= o->lo && (uintptr_t)now < o->hi)))
			write_slot(o, slot, hook->ours);
	}
}

/* The loader makes the dynamic section's pointers absolute, unless that
 * section is read-only: take either. */
static uintptr_t dyn_ptr(const struct object *o, ElfW(Addr) p)
{
	return p < o->bias ? o->bias + p : p;
}

static void rebind_object(const struct dl_phdr_info *info)
{
	struct object o = { .bias = info->dlpi_addr, .lo = UINTPTR_MAX };
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const ElfW(Dyn) *dyn = NULL;
	uintptr_t jmprel = 0, rela = 0;
	size_t jmprelsz = 0, relasz = 0;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = o.bias + ph->p_vaddr, end = start + ph->p_memsz;

		if (ph->p_type == PT_LOAD) {
			if (start < o.lo)
				o.lo = start;
			if (end > o.hi)
				o.hi = end;
		} else if (ph->p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)start;
		} else if (ph->p_type == PT_GNU_RELRO) {
			/* the loader protects whole pages: the last part page stays writable */
			o.relro_lo = start & ~(page - 1);
			o.relro_hi = end & ~(page - 1);
		}
	}
	if (!dyn || o.lo >= o.hi)
		return;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: jmprel = dyn_ptr(&o, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: jmprelsz = dyn->d_un.d_val; break;
		case DT_RELA: rela = dyn_ptr(&o, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relasz = dyn->d_un.d_val; break;
		case DT_SYMTAB: o.symtab = (const ElfW(Sym) *)dyn_ptr(&o, dyn->d_un.d_ptr); break;
		case DT_STRTAB: o.strtab = (const char *)dyn_ptr(&o, dyn->d_un.d_ptr); break;
		default: break;
		}
	}
	if (!o.symtab || !o.strtab)
		return;
	if (jmprel)
		rebind_table(&o, (const ElfW(Rela) *)jmprel, jmprelsz);
	if (rela)
		rebind_table(&o, (const ElfW(Rela) *)rela, relasz);
}

/* ------------------------------------------------------------------ */
/* The dlopen                                                          */
/* ------------------------------------------------------------------ */

static int count_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	++*(unsigned *)arg;
	return 0;
}

struct past {
	unsigned seen, skip;	/* objects visited; the first skip were there before */
};

static int rebind_new(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct past *p = arg;

	(void)size;
	if (p->seen++ < p->skip || !info->dlpi_name || !*info->dlpi_name)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD &&
		    hw_own_frame(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr))
			return 0;	/* ourselves */
	rebind_object(info);
	return 0;
}

/* Does the caller's object search paths of its own, or live in another
 * namespace? Then only the caller itself can make this dlopen. */
static int caller_matters(void *caller)
{
	struct link_map *lm = NULL;
	Lmid_t ns = LM_ID_BASE;
	Dl_info info;

	if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return 1;
	if (dlinfo(lm, RTLD_DI_LMID, &ns) != 0 || ns != LM_ID_BASE)
		return 1;
	for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_RPATH || d->d_tag == DT_RUNPATH)
			return 1;
	return 0;
}

int hw_deepbind_from_here(const char *file, void *caller)
{
	if (!file)
		return 0;	/* the main program: nothing is loaded */
	hw_bootstrap();
	if (!hw_real_dlopen || strchr(file, '$'))
		return 0;
	return strchr(file, '/') != NULL || !caller_matters(caller);
}

void *hw_deepbind_dlopen(const char *file, int mode)
{
	void *(*real_dlopen)(const char *, int) = (void *(*)(const char *, int))hw_real_dlopen;
	struct past past = { 0, 0 };
	void *handle;

	know_hooks();
	dl_iterate_phdr(count_object, &past.skip);
	handle = real_dlopen(file, mode);
	if (handle)
		dl_iterate_phdr(rebind_new, &past);
	return handle;
}
