/*
 * site-names.c - sites of stacks and their names (see site-names.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site-names.h"

/*
 * Functions that only pass an allocation on: a block is charged to their
 * caller. The C library's and C++'s own (stdio's buffers and streams
 * among them, so printf's buffer is the printing line's), and the wrappers
 * well-known programs and libraries put around them (git's and GNU's x*,
 * GLib's g_*, redis's z*, perl's safesys*, sqlite's, CPython's). Names
 * are compared whole; the patterns (fnmatch) are the few that need one,
 * since every frame of every stack up to its site is looked up here.
 */
static const char *const wrapper_names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc",
	"strdup", "strndup", "__strdup", "__strndup", "wcsdup",
	"__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_memalign",
	"xmalloc", "xcalloc", "xrealloc", "xzalloc", "xstrdup", "xstrndup", "xmemdup", "xmemdupz",
	"xmallocz", "xmallocz_gently", "do_xmalloc", "do_xmallocz",
	"g_malloc", "g_malloc0", "g_malloc_n", "g_malloc0_n", "g_realloc", "g_realloc_n", "g_try_malloc",
	"g_try_malloc0", "g_try_realloc", "g_strdup", "g_strndup", "g_memdup", "g_memdup2",
	"zmalloc", "zcalloc", "zrealloc", "zstrdup",
	"zmalloc_usable", "zcalloc_usable", "zrealloc_usable",
	/* CPython's allocator entry points and object allocation helpers: a
	 * block of a Python program without Python frames (--python=off, or
	 * before the interpreter runs) is its caller's */
	"PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc", "_PyMem_RawMalloc",
	"_PyMem_RawCalloc", "_PyMem_RawRealloc", "PyMem_Malloc", "PyMem_Calloc",
	"PyMem_Realloc", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
	"_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_realloc",
	"_PyMem_RawStrdup", "_PyMem_RawWcsdup", "_PyMem_Strdup", "_PyObject_GC_New",
	"_PyObject_GC_NewVar", "_PyObject_GC_Resize", "gc_alloc", "_PyObject_New",
	"_PyObject_NewVar", "PyType_GenericAlloc", "_PyType_AllocNoTrack",
	"Perl_safesysmalloc", "Perl_safesyscalloc", "Perl_safesysrealloc", "Perl_savepv", "Perl_savepvn",
	"sqlite3MemMalloc", "sqlite3MemRealloc", "sqlite3Malloc", "sqlite3Realloc",
	"sqlite3DbMallocZero", "sqlite3DbRealloc", "dbMallocRawFinish", "mallocWithAlarm",
	/* stdio's buffers and streams are the caller's: printf's buffer is
	 * charged to the line that printed */
	"__vfprintf_internal", "__vfwprintf_internal",
	"printf", "__printf", "fprintf", "__fprintf", "vprintf", "vfprintf", "dprintf", "wprintf",
	"puts", "fputs", "fputs_unlocked", "fwrite", "fwrite_unlocked", "fputc", "putc", "putchar",
	"fputwc", "fflush", "fopen", "fopen64", "fdopen", "__fopen_internal", "__fopen_maybe_mmap",
	"getline", "getdelim", "__getdelim", "asprintf", "__asprintf", "vasprintf", "__vasprintf_internal",
	"open_memstream", "open_wmemstream",
	/* and C++'s streams over them */
	"std::ostream::put", "std::ostream::write", "std::ostream::flush",
};

static const char *const wrapper_patterns[] = {
	"operator new*", "operator delete*", "_Znw*", "_Zna*",
	"__gnu_cxx::new_allocator*", "std::allocator*", "std::__new_allocator*",
	"__gnu_cxx::__new_allocator*", "std::allocator_traits*",
	"ztrymalloc*", "ztrycalloc*", "ztryrealloc*",
	"sqlite3_malloc*", "sqlite3_realloc*", "sqlite3DbMallocRaw*",
	"_IO_*", "__printf_buffer*", "outstring*",
	"*std::__ostream_insert<*", "std::ostream::_M_insert*", "std::ostream::operator<<*",
	"*std::operator<< <std::char_traits<char> >*", "std::basic_ostream<*>::_M_insert*",
};

/* glibc's internal alias of a function is the function (libc6-dbg names
 * strdup __GI___strdup): the name without the prefix, or NULL */
static const char *alias_of(const char *function)
{
	return strncmp(function, "__GI_", 5) == 0 ? function + 5 : NULL;
}

static int is_named(const char *name, const char *function, const char *alias)
{
	return strcmp(name, function) == 0 || (alias && strcmp(name, alias) == 0);
}

static int is_matched(const char *pattern, const char *function, const char *alias)
{
	return fnmatch(pattern, function, 0) == 0 || (alias && fnmatch(pattern, alias, 0) == 0);
}

static int is_builtin_wrapper(const char *function, const char *alias)
{
	for (size_t i = 0; i < sizeof(wrapper_names) / sizeof(wrapper_names[0]); i++)
		if (is_named(wrapper_names[i], function, alias))
			return 1;
	for (size_t i = 0; i < sizeof(wrapper_patterns) / sizeof(wrapper_patterns[0]); i++)
		if (is_matched(wrapper_patterns[i], function, alias))
			return 1;
	return 0;
}

int site_is_alloc_wrapper(const char *function)
{
	return is_builtin_wrapper(function, alias_of(function));
}

/* A wrapper by the built-in list or the profile's "alloc-fn" patterns
 * (heapwise run --alloc-fn, or a command's own). */
static int is_wrapper(const struct profile *p, const char *function)
{
	const char *alias = alias_of(function);

	if (is_builtin_wrapper(function, alias))
		return 1;
	for (size_t i = 0; i < p->nmeta; i++)
		if (strcmp(profile_str(p, p->meta[i].key), SITE_ALLOC_FN_META) == 0 &&
		    is_matched(profile_str(p, p->meta[i].value), function, alias))
			return 1;
	return 0;
}

int site_add_alloc_fn(struct profile *p, const char *pattern)
{
	for (size_t i = 0; i < p->nmeta; i++)
		if (strcmp(profile_str(p, p->meta[i].key), SITE_ALLOC_FN_META) == 0 &&
		    strcmp(profile_str(p, p->meta[i].value), pattern) == 0)
			return 0;
	return profile_set_meta(p, SITE_ALLOC_FN_META, pattern);
}

uint32_t site_index(const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return 0;
	for (uint32_t i = 0; i < st->depth; i++)
		if (p->frames[p->stack_frames[st->first + i]].flags & PROFILE_FRAME_PYTHON)
			return i;	/* the innermost Python line */
	for (uint32_t i = 0; i < st->depth; i++) {
		uint32_t f = p->stack_frames[st->first + i];
		const char *fn = profile_str(p, p->frames[f].function);

		if (!*fn || !is_wrapper(p, fn))
			return i;
	}
	return st->depth - 1;
}

uint32_t site_frame(const struct profile *p, uint32_t stack)
{
	const struct profile_stack *st = &p->stacks[stack];

	if (st->depth == 0)
		return PROFILE_NONE;
	return p->stack_frames[st->first + site_index(p, stack)];
}

const char *site_module_name(const struct profile *p, uint32_t module)
{
	const char *path, *slash;

	if (module == PROFILE_NONE || module >= p->nmodules)
		return "?";
	path = profile_str(p, p->modules[module].path);
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

uint64_t site_module_offset(const struct profile *p, const struct profile_frame *f)
{
	return f->module == PROFILE_NONE ? f->ip : f->ip - p->modules[f->module].bias;
}

void site_name(const struct profile *p, uint32_t frame, char *buf, size_t len)
{
	const struct profile_frame *f;
	const char *fn, *file;

	if (frame == PROFILE_NONE) {
		snprintf(buf, len, "<unknown stack>");
		return;
	}
	f = &p->frames[frame];
	fn = profile_str(p, f->function);
	file = profile_str(p, f->file);
	if (*file)
		snprintf(buf, len, "%s %s:%u", *fn ? fn : "??", file, f->line);
	else if (*fn)
		snprintf(buf, len, "%s", fn);
	else if (f->module != PROFILE_NONE)
		snprintf(buf, len, "%s+0x%llx", site_module_name(p, f->module),
			 (unsigned long long)site_module_offset(p, f));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)f->ip);
}

/* Is want (len bytes) the whole of file, or its tail after a '/'? */
static int file_matches(const char *file, const char *want, size_t len)
{
	size_t flen = strlen(file);

	return len && flen >= len && strncmp(file + flen - len, want, len) == 0 &&
	       (flen == len || file[flen - len - 1] == '/');
}

int site_name_matches(const struct profile *p, uint32_t frame, const char *text)
{
	const struct profile_frame *f;
	const char *colon = strrchr(text, ':'), *fn;
	char name[4096], *end;
	unsigned long line;

	if (frame == PROFILE_NONE)
		return 0;
	f = &p->frames[frame];
	fn = profile_str(p, f->function);
	site_name(p, frame, name, sizeof(name));
	if (strcmp(name, text) == 0 || (*fn && strcmp(fn, text) == 0))
		return 1;
	if (colon && colon[1] && !strchr(colon, ' ')) {
		line = strtoul(colon + 1, &end, 10);
		if (!*end && f->line == line && file_matches(profile_str(p, f->file), text, (size_t)(colon - text)))
			return 1;
	}
	return 0;
}

void site_python_view(struct profile *p)
{
	for (size_t s = 1; s < p->nstacks; s++) {
		struct profile_stack *st = &p->stacks[s];
		uint32_t *f = p->stack_frames + st->first, kept = 0, python = 0;

		for (uint32_t i = 0; i < st->depth; i++)
			python += (p->frames[f[i]].flags & PROFILE_FRAME_PYTHON) != 0;
		if (!python)
			continue;	/* a stack without Python frames stays whole */
		/* its Python frames, and the mark of a cut stack */
		for (uint32_t i = 0; i < st->depth; i++)
			if (p->frames[f[i]].flags & (PROFILE_FRAME_PYTHON | PROFILE_FRAME_TRUNCATED))
				f[kept++] = f[i];
		st->depth = kept;
	}
}
